"""Search tab: text and/or image query, filters with facet counts, results, item detail, "more like this".

Impressions are logged by the engine; opening a result logs a click with its query and position.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from PIL import Image

from recsys.config import REPO_ROOT
from recsys.search.filters import SearchFilters
from recsys.search.types import NotReady, SearchRequest, SearchResponse
from recsys.service.errors import NotFound
from recsys.service.taillift import TailLiftService
from recsys.ui import opinions_panel, recommend_panel
from recsys.ui.i18n import t
from recsys.ui.placeholder import placeholder_image
from recsys.ui.render import caption_style, esc, gallery_caption, item_markdown, matched_label
from recsys.ui.search_facets import FACET_CSS, FACET_LABELS, facet_counts_state, facet_updates, toggle

ASSETS = REPO_ROOT / "assets"  # example query images we drew ourselves (assets/make_query_images.py)
SESSION_CLICKS = 20  # the shopper's latest opened results feed the ranker's session-similarity features
# Outputs of a search after the gallery, hits and status: facet counts, unfold flags, checkboxes, "More" buttons.
FACET_OUTPUTS = 2 + 2 * len(FACET_LABELS)


def _price(value: Any) -> float | None:
    """A price bound from the form; empty or 0 means no bound (the browser sends 0 for an empty box)."""
    return None if value in (None, "") or float(value) <= 0 else float(value)


def _results(service: TailLiftService, response: SearchResponse, query: str | None):
    """Gallery entries and per-hit state; ``query`` is None for lists that are not search results (no click log)."""
    items = service.get_items([h.item_id for h in response.hits], with_reviews=False)
    entries, hits = [], []
    for hit in response.hits:
        item = items.get(hit.item_id)
        if item is None:  # deleted since the search read its snapshot
            continue
        picture = str(item.images[0].path) if item.images else placeholder_image()
        entries.append((picture, gallery_caption(item, matched_label(hit.matched))))
        hits.append(
            {
                "item_id": hit.item_id,
                "rank": hit.rank,
                "score": hit.score,
                "explanation": hit.explanation,
                "similarities": hit.similarities,
                "matched": hit.matched,
                "query": query,
            }
        )
    return entries, hits


def run_search(service: TailLiftService, *form, **options):
    """The search form's event: ``_search``'s arguments (text, image, the three facet selections, price bounds,
    session id, clicked ids, k). Return (gallery entries, hits state, status markdown, facet counts, unfold flags,
    *facet checkbox updates, *"More" button updates)."""
    return _search(service, *form, **options)[0]


def run_search_with_chips(service: TailLiftService, *args, chips: dict | None = None):
    """``run_search``'s outputs, then the understood-chips update and the chips state. ``chips`` (the state:
    ``{"labels": {key: label}, "ignored": [key]}``) says which understood parts the shopper removed; None: a new
    query, nothing removed."""
    chips = chips or {"labels": {}, "ignored": []}
    outputs, response = _search(service, *args, ignored=tuple(chips["ignored"]))
    if response is None:
        return *outputs, gr.update(), chips
    return *outputs, *understood_chips(response.understood, chips)


def understood_chips(understood: list, chips: dict) -> tuple[Any, dict]:
    """What the query was read as, one ticked chip each; removed ones stay, unticked, so they can come back."""
    labels = {u.key: u.label for u in understood}
    ignored = [key for key in chips["ignored"] if key in chips["labels"] and key not in labels]
    labels |= {key: chips["labels"][key] for key in ignored}
    update = gr.update(
        choices=[(label, key) for key, label in labels.items()], value=[u.key for u in understood], visible=bool(labels)
    )
    return update, {"labels": labels, "ignored": ignored}


def chips_changed(chips: dict | None, kept: list[str] | None) -> dict:
    """The chips state after the shopper unticked (or ticked again) chips: every shown chip not ticked is ignored."""
    chips = chips or {"labels": {}, "ignored": []}
    ticked = set(kept or [])
    return {"labels": chips["labels"], "ignored": [key for key in chips["labels"] if key not in ticked]}


def _search(
    service: TailLiftService,
    text: str,
    image: Image.Image | None,
    categories: list[str] | None,
    genders: list[str] | None,
    colours: list[str] | None,
    min_price: Any,
    max_price: Any,
    session_id: str,
    clicked: list[int] | None = None,
    k: int = 24,
    *,
    ignored: tuple[str, ...] = (),
) -> tuple[tuple, SearchResponse | None]:
    selected = {"category": categories or [], "gender": genders or [], "colour": colours or []}
    if not (text or "").strip() and image is None:
        empty = ([], [], "Type a query, drop in a photo, or both.", *[gr.update() for _ in range(FACET_OUTPUTS)])
        return empty, None
    filters = SearchFilters(
        category=tuple(selected["category"]),
        gender=tuple(selected["gender"]),
        colour=tuple(selected["colour"]),
        min_price=_price(min_price),
        max_price=_price(max_price),
    )
    try:
        response = service.search(
            SearchRequest(
                text=text or "",
                image=image,
                filters=filters,
                k=k,
                session_id=session_id,
                clicked_item_ids=tuple((clicked or [])[-SESSION_CLICKS:]),
                ignore_understood=ignored,
            )
        )
    except NotReady:
        line = f"Search is not ready yet. {esc(service.startup.line())}"
        return ([], [], line, *[gr.update() for _ in range(FACET_OUTPUTS)]), None
    entries, hits = _results(service, response, text or "")
    status = (
        f"{len(hits)} results from {response.candidates} candidates in {response.latency_ms:.0f} ms "
        f"· encoder `{response.model_version}` · ranker `{response.ranker_version}`"
    )
    notices = [f"**{esc(line)}**" for line in response.reading.notices()]
    status = "  \n".join([*notices, status])  # Markdown line breaks: one notice per line, above the counts
    counts = facet_counts_state(response.facets)
    boxes, buttons = facet_updates(counts, selected)
    return (entries, hits, status, counts, {}, *boxes, *buttons), response


def open_result(
    service: TailLiftService, hits: list[dict], index: int, session_id: str, clicked: list[int] | None = None
):
    """Return (detail markdown, image paths, selected item id, clicked ids); logs a click on a search result with the
    query and position it was shown at (not on "more like this" lists, whose positions no query produced)."""
    clicked = list(clicked or [])
    if index is None or index >= len(hits):
        return "Select a result.", [], None, clicked
    hit = hits[index]
    try:
        item = service.get_item(hit["item_id"])
    except NotFound as exc:
        return esc(exc), [], None, clicked
    clicked.append(item.id)
    if hit.get("query") is not None:
        service.log_event(session_id, hit["item_id"], "click", hit["query"], hit["rank"])
    sims = ", ".join(f"{esc(k)} {v:.2f}" for k, v in hit["similarities"].items())
    matched = f"**{matched_label(hit.get('matched', 'text')).capitalize()}** · score {hit.get('score', 0):.2f} · "
    extra = f"\n\n{matched}*{esc(hit['explanation'])}*\n\n<small>route similarities: {sims}</small>"
    return item_markdown(item) + extra, [str(i.path) for i in item.images], item.id, clicked


def more_like_this(service: TailLiftService, item_id: int | None):
    if item_id is None:
        return [], [], "Open a result first."
    try:
        response = service.similar(int(item_id), k=12)
    except (NotReady, KeyError) as exc:
        return [], [], esc(exc)
    entries, hits = _results(service, response, None)
    return entries, hits, f"{len(hits)} items like #{int(item_id)}"


# The detail renders below the results, out of sight in a laptop window: bring it into view once it is filled.
SCROLL_TO_DETAIL = "() => document.getElementById('result-detail')?.scrollIntoView({block: 'start'})"
SCROLL_TO_RESULTS = "() => document.getElementById('results')?.scrollIntoView({block: 'start'})"


def build(demo: gr.Blocks, service: TailLiftService, token: gr.State | None = None) -> None:
    """The tab; ``token`` (the app's login state) lets "For you" use a signed-in shopper's history too."""
    token = token if token is not None else gr.State("")
    session_id = recommend_panel.shopper_state(service.settings)  # this browser's shopper id, kept across reloads
    clicked = gr.State([])
    hits = gr.State([])
    current = gr.State(None)
    facet_counts = gr.State({})  # the last search's facet counts, all values (the boxes show the top ones)
    unfolded = gr.State({})  # facet name -> True while its "More" is open
    gr.HTML(f"{caption_style()}<style>{FACET_CSS}</style>")
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(label=t("Search"), placeholder=t("navy blue casual shirt"), elem_id="search-text")
            with gr.Row():
                go = gr.Button(t("Search"), variant="primary", elem_id="search-button")
                clear = gr.ClearButton(value=str(t("Clear")))
        image = gr.Image(
            label=t("…or search by photo"),
            type="pil",
            height=160,
            scale=1,
            sources=["upload", "clipboard"],
            elem_id="search-photo",
        )
    with gr.Row():
        with gr.Column(scale=1, min_width=220):
            facets, more = [], []
            for name, label in FACET_LABELS.items():
                facets.append(
                    gr.CheckboxGroup(label=label, choices=[], elem_id=f"facet-{name}", elem_classes=["search-facet"])
                )
                more.append(gr.Button(t("More"), size="sm", visible=False, elem_id=f"facet-{name}-more"))
            with gr.Row():
                min_price = gr.Number(label=t("Min price (0 = any)"), minimum=0)
                max_price = gr.Number(label=t("Max price (0 = any)"), minimum=0)
        with gr.Column(scale=4):
            status = gr.Markdown(elem_id="search-status")
            # What the query was read as (colour, gender, type, price; en or zh): untick a chip to search without it.
            chips = gr.CheckboxGroup(
                label=t("Understood (untick to search without it)"),
                choices=[],
                visible=False,
                elem_id="understood-chips",
            )
            gallery = gr.Gallery(
                label=t("Results"),
                columns=6,
                height=540,
                allow_preview=False,
                elem_id="results",
                elem_classes=["result-gallery"],
            )
        with gr.Column(scale=2, min_width=240):
            for_you = recommend_panel.build_for_you()
    with gr.Row():
        with gr.Column(scale=2):
            detail = gr.Markdown(elem_id="result-detail")
            similar_btn = gr.Button(t("More like this"))
        detail_images = gr.Gallery(label=t("Images"), columns=3, height=240, scale=1)
    opinions = opinions_panel.build()  # what the opened item's reviews praise and complain about
    panel = recommend_panel.build_item_panel()
    clear.add([text, image, *facets, min_price, max_price])  # Clear resets the filters too, not just the query
    examples = gr.Examples(
        api_visibility="private",  # its example loader would otherwise be callable by clients
        label=t("Try"),
        inputs=[text, image],
        examples=[
            ["navy blue casual shirt", None],
            ["women red dress", None],
            ["black leather wallet", None],
            ["红色连衣裙", None],  # a Chinese query searches the same catalog ("red dress")
            ["", str(ASSETS / "query-red-dress.jpg")],
            ["", str(ASSETS / "query-navy-shirt.jpg")],
            ["sports", str(ASSETS / "query-black-sneaker.jpg")],
        ],
    )
    # Gradio takes the table's headers from the inputs' labels and its page does not translate them there (it showed
    # the raw ``__i18n__{...}`` keys); a query column and a photo column need no header.
    examples.dataset.headers = []

    chips_state = gr.State({"labels": {}, "ignored": []})
    # Clear empties the query, so nothing is understood any more: the chips go with it.
    clear.click(
        lambda: (gr.update(choices=[], value=[], visible=False), {"labels": {}, "ignored": []}),
        None,
        [chips, chips_state],
        api_visibility="private",
    )
    inputs = [text, image, *facets, min_price, max_price, session_id, clicked]
    outputs = [gallery, hits, status, facet_counts, unfolded, *facets, *more, chips, chips_state]
    search = lambda *a: run_search_with_chips(service, *a)  # a new query: no chip removed
    same_query = lambda *a: run_search_with_chips(service, *a[:-1], chips=a[-1])  # keeps the removed chips
    # A search that answers after Clear cannot tick a box again: it sends the facets' choices, never their ticks.
    go.click(search, inputs, outputs, api_visibility="private")
    text.submit(search, inputs, outputs, api_visibility="private")
    image.upload(search, inputs, outputs, api_visibility="private")
    for box in facets:
        box.input(same_query, [*inputs, chips_state], outputs, api_visibility="private")
    chips.input(chips_changed, [chips_state, chips], chips_state, api_visibility="private").then(
        same_query, [*inputs, chips_state], outputs, api_visibility="private"
    )
    examples.load_input_event.then(search, inputs, outputs, api_visibility="private")  # a "Try" example searches
    for name, box, button in zip(FACET_LABELS, facets, more):
        button.click(
            lambda counts, picked, flags, name=name: toggle(name, counts, picked, flags),
            [facet_counts, box, unfolded],
            [box, button, unfolded],
            api_visibility="private",
        )

    def on_select(state: list[dict], sid: str, opened: list[int], evt: gr.SelectData):
        return open_result(service, state, evt.index, sid, opened)

    opened = gallery.select(
        on_select, [hits, session_id, clicked], [detail, detail_images, current, clicked], api_visibility="private"
    )
    opened.then(None, js=SCROLL_TO_DETAIL)
    recommend_panel.wire(service, demo, for_you, panel, opened, current, detail, detail_images, session_id, token)
    opinions_panel.wire(service.opinions, opened, current, opinions)
    similar_btn.click(
        lambda item_id: more_like_this(service, item_id), current, [gallery, hits, status], api_visibility="private"
    ).then(None, js=SCROLL_TO_RESULTS)
