"""Merchant tab: add one item (images + reviews), bulk upload (``merchant_bulk``), and the merchant's own items to
edit and delete (``merchant_edit``).

Each event is one plain function over the service and the acting principal (the signed-in merchant), so tests
call them without a browser; the service refuses what the principal may not do.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from recsys.accounts.principal import Principal
from recsys.catalog.validation import InvalidInput
from recsys.service.catalog import CatalogService
from recsys.service.errors import NotAllowed
from recsys.service.taillift import TailLiftService
from recsys.ui import merchant_bulk, merchant_edit, merchant_opinions
from recsys.ui.account import caller
from recsys.ui.i18n import t
from recsys.ui.merchant_forms import (
    BLANK_REVIEWS,
    REVIEW_COLUMNS,
    problems_markdown,
    reviews_from_table,
    uploaded_paths,
)
from recsys.ui.render import esc


def create_item(
    service: CatalogService,
    actor: Principal,
    title: str,
    description: str,
    price: Any,
    category: str,
    brand: str,
    images: Any,
    reviews: Any,
) -> tuple[str, int | None]:
    """(message, the new item's id or None): one item from the form's values, as typed."""
    fields = {
        "title": title,
        "description": description,
        "price": price,
        "category": category,
        "brand": brand,
        "reviews": reviews_from_table(reviews),
    }
    try:
        item = service.add_item(actor, fields, uploaded_paths(images))
    except (InvalidInput, NotAllowed, OSError) as exc:
        return problems_markdown(exc), None
    return (
        f"Saved item **#{item.id}** “{esc(item.title)}” with {len(item.images)} image(s) and "
        f"{len(item.reviews)} review(s). The form is clear for the next item; edit this one under My items."
    ), item.id


def _form_is_empty(title: Any, description: Any, price: Any, category: Any, brand: Any, images: Any, reviews: Any):
    no_text = all(not str(text or "").strip() for text in (title, description, category, brand, price))
    return no_text and not images and not reviews_from_table(reviews)


def save_new_item(
    service: CatalogService,
    actor: Principal,
    title: str,
    description: str,
    price: Any,
    category: str,
    brand: str,
    images: Any,
    reviews: Any,
) -> tuple[Any, ...]:
    """The Save event: (message, new item id, then the form's fields). A saved item clears the form, so a second
    click of Save finds it empty and adds nothing; a refused one keeps what was typed, to be corrected."""
    if _form_is_empty(title, description, price, category, brand, images, reviews):
        return ("Nothing to save: the form is empty (an item needs at least a title).", None, *[gr.skip()] * 7)
    message, item_id = create_item(service, actor, title, description, price, category, brand, images, reviews)
    if item_id is None:
        return (message, None, *[gr.skip()] * 7)
    return (message, item_id, "", "", "", "", "", None, BLANK_REVIEWS)


def build(demo: gr.Blocks, service: CatalogService, token: gr.State) -> None:
    """The tab's components and events; every event acts as the tab's signed-in principal (``token``)."""
    acting = lambda tok, profile: caller(service, tok, profile)  # noqa: E731
    gr.Markdown(
        t(
            "Items are filed under the merchant you are signed in as; you can edit and delete only your own "
            "(admins: every merchant's)."
        )
    )
    with gr.Tab(t("Add an item")):
        with gr.Row():
            with gr.Column():
                title = gr.Textbox(label=t("Title *"), max_length=service.settings.max_title_chars)
                description = gr.Textbox(label=t("Description"), lines=4)
                with gr.Row():
                    # Text, not gr.Number: an untouched gr.Number sends 0, so an empty price would be stored as 0.00.
                    price = gr.Textbox(label=t("Price"), placeholder=t("empty: no price"))
                    category = gr.Textbox(label=t("Category"), placeholder=t("Apparel > Topwear > Shirts"))
                    brand = gr.Textbox(label=t("Brand"))
            with gr.Column():
                images = gr.File(label=t("Images (one or more)"), file_count="multiple", file_types=["image"])
                reviews = gr.Dataframe(
                    headers=REVIEW_COLUMNS,
                    datatype=["number", "str", "str"],
                    value=BLANK_REVIEWS,
                    row_count=3,
                    column_count=3,
                    label=t("Reviews (leave rows blank to skip)"),
                    interactive=True,
                )
        save = gr.Button(t("Save item"), variant="primary")
        status = gr.Markdown()
        new_id = gr.Number(visible=False)

    with gr.Tab(t("Bulk upload")):
        merchant_bulk.build(service, acting, token)

    with gr.Tab(t("My items")) as my_items_tab:
        my_items = merchant_edit.build(service, acting, token)

    if isinstance(service, TailLiftService):  # opinions need the text model, which the catalog-only service lacks
        with gr.Tab(t("Opinions")):
            merchant_opinions.build(service.opinions, acting, token)

    def on_save(
        tok,
        title_,
        description_,
        price_,
        category_,
        brand_,
        images_,
        reviews_,
        profile: gr.OAuthProfile | None = None,
    ):
        actor = caller(service, tok, profile)
        return save_new_item(service, actor, title_, description_, price_, category_, brand_, images_, reviews_)

    # trigger_mode "once": a click while a save is in flight is dropped; the cleared form stops later ones.
    save.click(
        on_save,
        [token, title, description, price, category, brand, images, reviews],
        [status, new_id, title, description, price, category, brand, images, reviews],
        api_visibility="private",
        trigger_mode="once",
    ).then(my_items.refresh, my_items.inputs, my_items.outputs, api_visibility="private")
    my_items_tab.select(my_items.refresh, my_items.inputs, my_items.outputs, api_visibility="private")
