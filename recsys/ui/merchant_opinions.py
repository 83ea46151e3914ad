"""Merchant tab, "Opinions": for the signed-in merchant's own items, the aspects with the most complaints (table and
chart), the items whose complaints rose recently, and the review sentences behind each number.

Plain functions over the service; the service decides whose items a principal may see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import pandas as pd

from recsys.accounts.principal import Principal
from recsys.search.types import NotReady
from recsys.service.errors import NotAllowed, NotFound
from recsys.service.opinions import Opinions
from recsys.ui.i18n import t
from recsys.ui.render import esc

COMPLAINT_COLUMNS = ["aspect", "complaints", "praise", "mentions", "items with complaints", "complaint share"]
RISING_COLUMNS = ["item", "title", "aspect", "recent complaints", "recent mentions", "recent share", "earlier share"]
POLARITIES = ["negative", "positive", "neutral"]


def overview(opinions: Opinions, actor: Principal) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """(status line, complaints table, rising table)."""
    empty = pd.DataFrame(columns=COMPLAINT_COLUMNS), pd.DataFrame(columns=RISING_COLUMNS)
    try:
        view = opinions.merchant_view(actor)
    except (NotReady, NotAllowed) as exc:
        return esc(str(exc)), *empty
    labels = {a.key: a.label for a in opinions.aspects}
    complaints = pd.DataFrame(
        [
            [c.label, c.negative, c.positive, c.mentions, c.items, round(c.share_negative or 0.0, 3)]
            for c in view.complaints
        ],
        columns=COMPLAINT_COLUMNS,
    )
    rising = pd.DataFrame(
        [
            [
                r.item_id,
                view.items.get(r.item_id, ""),
                labels.get(r.aspect, r.aspect),
                r.recent_negative,
                r.recent_mentions,
                round(r.recent_share, 3),
                round(r.earlier_share, 3),
            ]
            for r in view.rising
        ],
        columns=RISING_COLUMNS,
    )
    whose = "all merchants'" if view.merchant is None else f"{esc(view.merchant)}'s"
    line = (
        f"Opinions in the reviews of {whose} {len(view.items)} items. Rising: complaint share in the last "
        f"{view.recent_days} days above the share before. Demo reviews are real reviews of similar garments."
    )
    return line, complaints, rising


def sentences_markdown(
    opinions: Opinions, actor: Principal, aspect_label: str, polarity: str, item_id: Any = None
) -> str:
    keys = {a.label: a.key for a in opinions.aspects}
    item = int(item_id) if item_id not in (None, "", 0) else None
    try:
        found = opinions.sentences(actor, keys.get(aspect_label, aspect_label), polarity or None, item)
    except (NotReady, NotAllowed, NotFound, ValueError) as exc:
        return esc(str(exc))
    if not found:
        return "No such sentences."
    head = f"**{len(found)} {esc(polarity)} sentences about {esc(aspect_label)}** (newest first)"
    rows = [f"- item #{m.item_id}, review #{m.review_id}: “{esc(m.sentence)}”" for m in found[:100]]
    return "\n".join([head, *rows, *(["- …"] if len(found) > 100 else [])])


def build(opinions: Opinions, acting: Callable[..., Principal], token: gr.State) -> None:
    refresh = gr.Button(t("Show opinions of my items"))
    status = gr.Markdown()
    with gr.Row():
        table = gr.Dataframe(headers=COMPLAINT_COLUMNS, label=t("Aspects, most complaints first"), interactive=False)
        chart = gr.BarPlot(x="aspect", y="complaints", title="Complaints per aspect", elem_id="opinion-chart")
    rising = gr.Dataframe(headers=RISING_COLUMNS, label=t("Complaints that rose recently"), interactive=False)
    with gr.Row():
        aspect = gr.Dropdown([a.label for a in opinions.aspects], label=t("Aspect"), value=opinions.aspects[0].label)
        polarity = gr.Dropdown(POLARITIES, label=t("Polarity"), value="negative")
        item = gr.Number(label=t("Item id (0: all my items)"), value=0, precision=0)
        show = gr.Button(t("Show the sentences"))
    sentences = gr.Markdown(elem_id="opinion-sentences")

    def on_refresh(tok: str, profile: gr.OAuthProfile | None = None):
        line, complaints, rising_rows = overview(opinions, acting(tok, profile))
        return line, complaints, complaints, rising_rows

    def on_show(tok: str, aspect_: str, polarity_: str, item_: Any, profile: gr.OAuthProfile | None = None):
        return sentences_markdown(opinions, acting(tok, profile), aspect_, polarity_, item_)

    refresh.click(on_refresh, [token], [status, table, chart, rising], api_visibility="private")
    show.click(on_show, [token, aspect, polarity, item], sentences, api_visibility="private")
