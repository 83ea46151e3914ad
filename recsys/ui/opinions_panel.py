"""Item page: what the item's reviews praise and complain about, per aspect, with real quotes.

One plain function (``summary_markdown``) over the service, shown under the opened item. Quotes are sentences of
that item's reviews, verbatim; demo items carry real reviews of similar garments, and the panel says so.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from recsys.search.types import NotReady
from recsys.service.errors import NotFound
from recsys.service.opinions import Opinions
from recsys.ui.render import esc

DEMO_NOTE = "Demo items carry real reviews of similar garments, not of this exact item."


def summary_markdown(opinions: Opinions, item_id: int | None) -> str:
    if item_id is None:
        return ""
    try:
        summary = opinions.item_summary(int(item_id))
    except NotReady as exc:
        return f"**What reviewers say:** {esc(str(exc))}."
    except NotFound:
        return ""
    if not summary.aspects:
        return (
            "**What reviewers say:** no review of this item talks about fit, fabric, colour or the other aspects yet."
            if summary.reviews
            else "**What reviewers say:** no reviews yet."
        )
    lines = [f"**What reviewers say** ({summary.reviews} reviews; quotes are sentences from them. {DEMO_NOTE})", ""]
    for aspect in summary.aspects:
        lines.append(f"- **{esc(aspect.headline)}**")
        for quote in aspect.quotes:
            lines.append(f"  - “{esc(quote.sentence)}” ({quote.polarity})")
    return "\n".join(lines)


def build() -> gr.Markdown:
    return gr.Markdown(elem_id="item-opinions")


def wire(opinions: Opinions, opened_event: Any, current: gr.State, panel: gr.Markdown) -> None:
    """Fill the panel after an item is opened (``current`` holds its id)."""
    opened_event.then(lambda item_id: summary_markdown(opinions, item_id), current, panel, api_visibility="private")
