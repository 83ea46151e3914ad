"""Merchant tab, "My items": the merchant's own items as a gallery (a placeholder for an item without images), an
item picker by title, editing with thumbnails of the images to remove, and deletion in two steps.

Each event is one plain function over the service and the acting principal; the service refuses what the principal
may not change. What is shown is filtered here (a merchant sees their own items, an admin everyone's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from recsys.accounts.principal import Principal
from recsys.catalog.validation import InvalidInput, whole_number
from recsys.catalog.views import ItemView
from recsys.service.catalog import CatalogService
from recsys.service.errors import NotAllowed, NotFound
from recsys.ui.i18n import t
from recsys.ui.merchant_forms import problems_markdown, uploaded_paths
from recsys.ui.placeholder import placeholder_image
from recsys.ui.render import esc, gallery_caption


@dataclass(frozen=True)
class MyItemsPage:
    entries: list[tuple[str, str]]  # (image path or the placeholder, caption) per item, newest first
    item_ids: list[int]  # the item of each gallery entry
    choices: list[tuple[str, int]]  # the picker's (label, item id)
    label: str
    page: int


def item_label(item: ItemView, with_merchant: bool = False) -> str:
    """How the picker names an item: its number and title (and, for an admin, its merchant)."""
    return f"#{item.id} {item.title}" + (f" ({item.merchant})" if with_merchant else "")


def _thumbnail(item: ItemView) -> str:
    return str(item.images[0].path) if item.images else placeholder_image()


def my_items(service: CatalogService, actor: Principal, page: Any = 1) -> MyItemsPage:
    """The actor's items, one page (an admin's list holds every merchant's); an item without images shows the
    placeholder, so it is listed like any other."""
    if not actor.signed_in:
        return MyItemsPage([], [], [], "Sign in to see your items.", 1)
    result = service.browse(page=whole_number(page) or 1, merchant="" if actor.is_admin else str(actor.name))
    entries = [(_thumbnail(item), gallery_caption(item)) for item in result.items]
    choices = [(item_label(item, actor.is_admin), item.id) for item in result.items]
    whose = "All merchants' items" if actor.is_admin else "Your items"
    label = f"{whose}: {result.total} · page {result.page} of {result.pages}"
    return MyItemsPage(entries, [i.id for i in result.items], choices, label, result.page)


@dataclass(frozen=True)
class EditForm:
    """Everything the edit form shows for one item (or an empty form with a message)."""

    message: str
    item_id: int | None = None
    title: str = ""
    description: str = ""
    price: str = ""  # as the price box shows it: "39.90", or empty for no price
    category: str = ""
    brand: str = ""
    image_choices: tuple[tuple[str, int], ...] = ()  # "Remove images" boxes: (label, image id)
    thumbnails: tuple[tuple[str, str], ...] = ()  # (path, the same label), so each box has its picture

    def outputs(self) -> tuple[Any, ...]:
        """In the order of ``EDIT_OUTPUTS`` in ``build``; a fresh form also cancels a pending delete."""
        return (
            self.message,
            self.item_id,
            self.title,
            self.description,
            self.price,
            self.category,
            self.brand,
            gr.update(choices=list(self.image_choices), value=[]),
            list(self.thumbnails),
            None,  # the "Add images" box
            gr.update(visible=False),  # the delete confirmation
            None,  # the item a pending delete would remove
        )


def _item(service: CatalogService, item_id: Any) -> ItemView | None:
    number = whole_number(item_id)
    try:
        return None if number is None else service.get_item(number)
    except NotFound:
        return None


def load_for_edit(service: CatalogService, actor: Principal, item_id: Any, note: str = "") -> EditForm:
    item = _item(service, item_id)
    if item is None:
        return EditForm(f"No item {esc(item_id)}.")
    if not actor.is_admin and item.merchant != actor.name:  # what to show; the service decides what to change
        return EditForm(f"Item #{item.id} is not one of your items.")
    labels = [f"image {n + 1} ({img.width}x{img.height})" for n, img in enumerate(item.images)]
    return EditForm(
        note or f"Editing item **#{item.id}** “{esc(item.title)}”.",
        item.id,
        item.title,
        item.description,
        price_text(item.price),
        item.category,
        item.brand,
        tuple((label, img.id) for label, img in zip(labels, item.images)),
        tuple((str(img.path), label) for label, img in zip(labels, item.images)),
    )


def price_text(price: float | None) -> str:
    return "" if price is None else f"{price:.2f}"


def pick_from_gallery(item_ids: list[int] | None, index: Any) -> int | None:
    """The item of the clicked gallery entry (None when the list changed under the click)."""
    position = whole_number(index)
    return item_ids[position] if item_ids and position is not None and 0 <= position < len(item_ids) else None


def save_edit(
    service: CatalogService,
    actor: Principal,
    item_id: Any,
    title: str,
    description: str,
    price: Any,
    category: str,
    brand: str,
    new_images: Any,
    remove_image_ids: list[int] | None,
) -> EditForm | str:
    """The item reloaded after the change (its images as they now are), or why nothing changed."""
    if item_id is None:
        return "Pick an item to edit first."
    fields = {"title": title, "description": description, "price": price, "category": category, "brand": brand}
    try:
        item = service.update_item(actor, item_id, fields, uploaded_paths(new_images), remove_image_ids or [])
    except (InvalidInput, NotFound, NotAllowed, OSError) as exc:
        return problems_markdown(exc)
    note = f"Updated item **#{item.id}** “{esc(item.title)}” ({len(item.images)} image(s))."
    return load_for_edit(service, actor, item.id, note)


def request_delete(service: CatalogService, actor: Principal, item_id: Any) -> tuple[str, Any, int | None]:
    """Step one of a delete: (the question, the confirmation row, the item pending); nothing is deleted here."""
    if item_id is None:
        return "Pick an item to delete first.", gr.update(visible=False), None
    item = _item(service, item_id)
    if item is None:
        return f"No item {esc(item_id)}.", gr.update(visible=False), None
    question = (
        f"Delete item **#{item.id}** “{esc(item.title)}” with its {len(item.images)} image(s) and reviews? "
        "This cannot be undone."
    )
    return question, gr.update(visible=True), item.id


def delete_item(service: CatalogService, actor: Principal, item_id: Any) -> str:
    try:
        service.delete_item(actor, item_id)
    except (NotFound, NotAllowed) as exc:
        return f"Not deleted: {esc(exc)}"
    return f"Deleted item #{esc(item_id)}."


def confirm_delete(service: CatalogService, actor: Principal, pending_id: Any, item_id: Any) -> EditForm:
    """Step two: delete the item the question named, only while it is still the one being edited."""
    if pending_id is None or pending_id != item_id:
        return EditForm("Nothing was deleted: ask again with Delete item.")
    return EditForm(delete_item(service, actor, pending_id))  # deleted or refused, the form is done with it


def cancel_delete() -> tuple[str, Any, None]:
    return "Nothing was deleted.", gr.update(visible=False), None


@dataclass(frozen=True)
class MyItemsTab:
    """The handles another part of the Merchant tab needs: what refreshes the list, and when."""

    refresh: Any  # the event function (token, page) -> list outputs
    inputs: list[Any]
    outputs: list[Any]


def _list_outputs(listing: MyItemsPage, editing: Any) -> tuple[Any, ...]:
    keep = editing if editing in listing.item_ids else None
    return (
        listing.entries,
        listing.item_ids,
        gr.update(choices=listing.choices, value=keep),
        listing.label,
        listing.page,
    )


def build(service: CatalogService, caller: Any, token: gr.State) -> MyItemsTab:
    """The "My items" components and events; ``caller(tok, profile)`` is the acting principal."""
    with gr.Row():
        page = gr.Number(label=t("Page"), value=1, precision=0, minimum=1, scale=1)
        list_btn = gr.Button(t("Refresh my items"), scale=1)
    list_label = gr.Markdown()
    gallery = gr.Gallery(
        label=t("My items: click one to edit it"), columns=8, height=300, allow_preview=False, elem_id="my-items"
    )
    item_ids = gr.State([])
    editing = gr.State(None)  # the item the form below edits
    pending = gr.State(None)  # the item a confirmed delete removes
    picker = gr.Dropdown(label=t("Item to edit"), choices=[], value=None, elem_id="item-to-edit")
    edit_status = gr.Markdown()
    e_title = gr.Textbox(label=t("Title"))
    e_description = gr.Textbox(label=t("Description"), lines=3)
    with gr.Row():
        e_price = gr.Textbox(label=t("Price"), placeholder=t("empty: no price"))  # text: gr.Number would send 0
        e_category = gr.Textbox(label=t("Category"))
        e_brand = gr.Textbox(label=t("Brand"))
    with gr.Row():
        remove = gr.CheckboxGroup(label=t("Remove images (tick, then Save changes)"), choices=[], scale=1)
        thumbnails = gr.Gallery(
            label=t("The item's images"), columns=5, height=170, allow_preview=False, scale=2, elem_id="edit-images"
        )
    add_images = gr.File(label=t("Add images"), file_count="multiple", file_types=["image"])
    with gr.Row():
        save_btn = gr.Button(t("Save changes"), variant="primary")
        delete_btn = gr.Button(t("Delete item"), variant="stop")
    with gr.Row(visible=False) as confirm_row:
        question = gr.Markdown()
        confirm_btn = gr.Button(t("Yes, delete it"), variant="stop")
        cancel_btn = gr.Button(t("Cancel"))

    form = [edit_status, editing, e_title, e_description, e_price, e_category, e_brand, remove, thumbnails]
    form += [add_images, confirm_row, pending]
    listing = [gallery, item_ids, picker, list_label, page]

    def on_list(tok, page_, editing_, profile: gr.OAuthProfile | None = None):
        return _list_outputs(my_items(service, caller(tok, profile), page_), editing_)

    def on_pick(tok, item_id, profile: gr.OAuthProfile | None = None):
        return load_for_edit(service, caller(tok, profile), item_id).outputs()

    def on_pick_gallery(tok, ids, evt: gr.SelectData, profile: gr.OAuthProfile | None = None):
        item_id = pick_from_gallery(ids, evt.index)
        return (*load_for_edit(service, caller(tok, profile), item_id).outputs(), item_id)

    def on_save_edit(
        tok,
        item,
        title_,
        description_,
        price_,
        category_,
        brand_,
        add_,
        remove_,
        profile: gr.OAuthProfile | None = None,
    ):
        actor = caller(tok, profile)
        outcome = save_edit(service, actor, item, title_, description_, price_, category_, brand_, add_, remove_)
        if isinstance(outcome, str):  # refused: the form keeps what was typed
            return (outcome, *[gr.skip()] * (len(form) - 1))
        return outcome.outputs()

    def on_delete(tok, item, profile: gr.OAuthProfile | None = None):
        return request_delete(service, caller(tok, profile), item)

    def on_confirm_delete(tok, pending_, item, profile: gr.OAuthProfile | None = None):
        return confirm_delete(service, caller(tok, profile), pending_, item).outputs()

    refresh_inputs = [token, page, editing]
    list_btn.click(on_list, refresh_inputs, listing, api_visibility="private")
    page.submit(on_list, refresh_inputs, listing, api_visibility="private")
    picker.input(on_pick, [token, picker], form, api_visibility="private")  # .input: the user's pick, not a refresh's
    gallery.select(on_pick_gallery, [token, item_ids], [*form, picker], api_visibility="private")
    save_btn.click(
        on_save_edit,
        [token, editing, e_title, e_description, e_price, e_category, e_brand, add_images, remove],
        form,
        api_visibility="private",
    ).then(on_list, refresh_inputs, listing, api_visibility="private")
    delete_btn.click(on_delete, [token, editing], [question, confirm_row, pending], api_visibility="private")
    cancel_btn.click(cancel_delete, None, [edit_status, confirm_row, pending], api_visibility="private")
    confirm_btn.click(on_confirm_delete, [token, pending, editing], form, api_visibility="private").then(
        on_list, refresh_inputs, listing, api_visibility="private"
    )
    return MyItemsTab(on_list, refresh_inputs, listing)
