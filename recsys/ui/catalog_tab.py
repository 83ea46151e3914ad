"""Catalog browser: a paged gallery with filters and an item detail panel."""

from __future__ import annotations

import gradio as gr

from recsys.service.catalog import CatalogService
from recsys.service.errors import NotFound
from recsys.ui.i18n import t
from recsys.ui.placeholder import placeholder_image
from recsys.ui.render import caption_style, gallery_caption, item_markdown


def browse(service: CatalogService, page: float, text: str, category: str, merchant: str):
    """Return (gallery entries, item ids on the page, page label, page number)."""
    result = service.browse(page=int(page or 1), text=text or "", category=category or "", merchant=merchant or "")
    # An item without images is shown with the placeholder: a merchant's new item must not vanish from the page.
    entries = [(str(i.images[0].path) if i.images else placeholder_image(), gallery_caption(i)) for i in result.items]
    ids = [i.id for i in result.items]
    label = f"{result.total} items · page {result.page} of {result.pages}"
    return entries, ids, label, result.page


def detail(service: CatalogService, item_id: int | None):
    """Return (markdown, image paths) for one item."""
    if item_id is None:
        return "Select an item.", []
    try:
        item = service.get_item(int(item_id))
    except NotFound as exc:
        return str(exc), []
    return item_markdown(item), [str(i.path) for i in item.images]


def build(demo: gr.Blocks, service: CatalogService) -> None:
    gr.HTML(caption_style())
    with gr.Row():
        text = gr.Textbox(label=t("Title contains"), scale=3)
        category = gr.Dropdown(
            label=t("Category"),
            choices=[""] + [c for c, _ in service.categories()[:300]],
            value="",
            allow_custom_value=True,
            scale=2,
        )
        merchant = gr.Textbox(label=t("Merchant"), scale=1)
        page = gr.Number(label=t("Page"), value=1, precision=0, minimum=1, scale=1)
    with gr.Row():
        prev_btn = gr.Button(t("◀ Previous"))
        refresh = gr.Button(t("Show"), variant="primary")
        next_btn = gr.Button(t("Next ▶"))
    label = gr.Markdown()
    ids = gr.State([])
    with gr.Row():
        gallery = gr.Gallery(
            label=t("Items"),
            columns=6,
            height=520,
            allow_preview=False,
            scale=3,
            elem_id="catalog-items",
            elem_classes=["result-gallery"],
        )
        with gr.Column(scale=2):
            info = gr.Markdown(t("Select an item."))
            images = gr.Gallery(label=t("Images"), columns=3, height=220)

    inputs = [page, text, category, merchant]
    outputs = [gallery, ids, label, page]
    run = lambda p, t, c, m: browse(service, p, t, c, m)
    refresh.click(run, inputs, outputs, api_visibility="private")
    text.submit(run, inputs, outputs, api_visibility="private")
    prev_btn.click(lambda p, t, c, m: run(max(1, (p or 1) - 1), t, c, m), inputs, outputs, api_visibility="private")
    next_btn.click(lambda p, t, c, m: run((p or 1) + 1, t, c, m), inputs, outputs, api_visibility="private")

    def on_select(item_ids: list[int], evt: gr.SelectData):
        return detail(service, item_ids[evt.index] if evt.index < len(item_ids) else None)

    gallery.select(on_select, [ids], [info, images], api_visibility="private")
    demo.load(run, inputs, outputs, api_visibility="private")
