"""Merchant tab: add one item (images + reviews), bulk upload, and edit/delete of the merchant's own items.

Each event is one plain function over the service and the acting principal (the signed-in merchant), so tests
call them without a browser; the service refuses what the principal may not do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from recsys.accounts.principal import Principal
from recsys.catalog.mapping import PRESETS
from recsys.catalog.validation import InvalidInput
from recsys.service.catalog import CatalogService
from recsys.service.errors import NotAllowed, NotFound
from recsys.ui.account import caller
from recsys.ui.render import esc

REVIEW_COLUMNS = ["rating (1-5)", "title", "text"]
REJECT_COLUMNS = ["row", "id", "reasons"]


def _rows(table: Any) -> list[list[Any]]:
    if table is None:
        return []
    if hasattr(table, "values"):  # a pandas DataFrame from gr.Dataframe
        return table.values.tolist()
    return [list(r) for r in table]


def _cell(value: Any) -> Any:
    """A grid cell as typed: a blank cell (None, "" or pandas' NaN) is None, i.e. not given."""
    return None if value is None or value == "" or (isinstance(value, float) and value != value) else value


def reviews_from_table(table: Any) -> list[dict[str, Any]]:
    """The grid's non-blank rows as {rating, title, text}; the values go to validation as they are."""
    reviews = []
    for row in _rows(table):
        rating, title, text = [_cell(v) for v in (list(row) + [None] * 3)[:3]]
        if rating is None and title is None and text is None:
            continue  # blank line in the grid
        reviews.append({"rating": rating, "title": title, "text": text})
    return reviews


def _files(files: Any) -> list[str]:
    if not files:
        return []
    files = files if isinstance(files, list) else [files]
    return [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files]


def _problems(exc: Exception) -> str:
    problems = exc.problems if isinstance(exc, InvalidInput) else [str(exc)]
    return "**Nothing was saved:**\n" + "\n".join(f"- {esc(p)}" for p in problems)


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
    fields = {
        "title": title,
        "description": description,
        "price": price,
        "category": category,
        "brand": brand,
        "reviews": reviews_from_table(reviews),
    }
    try:
        item = service.add_item(actor, fields, _files(images))
    except (InvalidInput, NotAllowed, OSError) as exc:
        return _problems(exc), None
    return (
        f"Saved item **#{item.id}** “{esc(item.title)}” with {len(item.images)} image(s) and "
        f"{len(item.reviews)} review(s)."
    ), item.id


def my_items(service: CatalogService, actor: Principal, page: float = 1) -> list[list[Any]]:
    if not actor.signed_in:
        return []
    result = service.browse(page=int(page or 1), merchant=str(actor.name))
    return [[i.id, i.title, i.category, i.price_label, len(i.images)] for i in result.items]


def load_for_edit(service: CatalogService, actor: Principal, item_id: Any):
    """(message, title, description, price, category, brand, image choices)."""
    try:
        item = service.get_item(int(item_id))
    except (NotFound, TypeError, ValueError):
        return f"No item {esc(item_id)}.", "", "", None, "", "", gr.update(choices=[], value=[])
    if not actor.is_admin and item.merchant != actor.name:  # what to show; the service decides what to change
        return (
            f"Item #{item.id} is not one of your items.",
            "",
            "",
            None,
            "",
            "",
            gr.update(choices=[], value=[]),
        )
    choices = [(f"image {n + 1} ({img.width}x{img.height})", img.id) for n, img in enumerate(item.images)]
    return (
        f"Editing item #{item.id}.",
        item.title,
        item.description,
        item.price,
        item.category,
        item.brand,
        gr.update(choices=choices, value=[]),
    )


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
) -> str:
    fields = {"title": title, "description": description, "price": price, "category": category, "brand": brand}
    try:
        item = service.update_item(actor, int(item_id), fields, _files(new_images), remove_image_ids or [])
    except (InvalidInput, NotFound, NotAllowed, OSError, TypeError, ValueError) as exc:
        return _problems(exc)
    return f"Updated item **#{item.id}** “{esc(item.title)}” ({len(item.images)} image(s))."


def delete_item(service: CatalogService, actor: Principal, item_id: Any) -> str:
    try:
        service.delete_item(actor, int(item_id))
    except (NotFound, NotAllowed, TypeError, ValueError) as exc:
        return f"Not deleted: {esc(exc)}"
    return f"Deleted item #{int(item_id)}."


def bulk_import(
    service: CatalogService,
    actor: Principal,
    catalog_file: Any,
    images_zip: Any,
    preset: str,
    mapping: str,
    progress: gr.Progress | None = None,
) -> tuple[str, list[list[Any]]]:
    catalog = _files(catalog_file)
    if not catalog:
        return "Choose a catalog file (CSV or JSONL).", []
    zips = _files(images_zip)

    def report_progress(done: int, total: int, message: str) -> None:
        if progress is not None:
            progress((done, total), desc=message)

    try:
        report = service.import_bundle(
            actor,
            Path(catalog[0]),
            Path(zips[0]) if zips else None,
            preset=preset or "default",
            mapping_overrides=mapping or "",
            progress=report_progress,
        )
    except NotAllowed as exc:
        return esc(exc), []
    summary = esc(report.summary())
    if report.ignored_files:
        summary += f"\n\nIgnored {len(report.ignored_files)} non-image file(s) in the zip."
    rows = [[e.row, e.id, "; ".join(e.reasons)] for e in report.rejected]
    return summary, rows


def build(demo: gr.Blocks, service: CatalogService, token: gr.State) -> None:
    """The tab's components and events; every event acts as the tab's signed-in principal (``token``)."""
    gr.Markdown(
        "Items are filed under the merchant you are signed in as; you can edit and delete only your own "
        "(admins: every merchant's)."
    )
    with gr.Tab("Add an item"):
        with gr.Row():
            with gr.Column():
                title = gr.Textbox(label="Title *", max_length=service.settings.max_title_chars)
                description = gr.Textbox(label="Description", lines=4)
                with gr.Row():
                    price = gr.Number(None, label="Price", minimum=0)  # empty stays empty: no price, not 0.00
                    category = gr.Textbox(label="Category", placeholder="Apparel > Topwear > Shirts")
                    brand = gr.Textbox(label="Brand")
            with gr.Column():
                images = gr.File(label="Images (one or more)", file_count="multiple", file_types=["image"])
                reviews = gr.Dataframe(
                    headers=REVIEW_COLUMNS,
                    datatype=["number", "str", "str"],
                    value=[[None, "", ""]] * 3,
                    row_count=3,
                    column_count=3,
                    label="Reviews (leave rows blank to skip)",
                    interactive=True,
                )
        save = gr.Button("Save item", variant="primary")
        status = gr.Markdown()
        new_id = gr.Number(visible=False)

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
            return create_item(service, actor, title_, description_, price_, category_, brand_, images_, reviews_)

        save.click(
            on_save,
            [token, title, description, price, category, brand, images, reviews],
            [status, new_id],
            api_visibility="private",
        )

    with gr.Tab("Bulk upload"):
        gr.Markdown(
            "Upload a catalog file (CSV or JSONL) and a zip of its images. See the README for the format; "
            "`fashion` maps the Myntra `styles.csv` columns."
        )
        with gr.Row():
            catalog_file = gr.File(label="Catalog file", file_types=[".csv", ".jsonl", ".ndjson"])
            images_zip = gr.File(label="Images zip", file_types=[".zip"])
        with gr.Row():
            preset = gr.Dropdown(label="Column preset", choices=list(PRESETS), value="default")
            mapping = gr.Textbox(
                label="Column overrides (field=column, one per line)", lines=2, placeholder="title=productDisplayName"
            )
        run = gr.Button("Import", variant="primary")
        summary = gr.Markdown()
        rejected = gr.Dataframe(headers=REJECT_COLUMNS, label="Rejected rows", interactive=False)

        def on_import(
            tok, catalog, zipped, preset_name, overrides, progress=gr.Progress(), profile: gr.OAuthProfile | None = None
        ):
            return bulk_import(
                service, caller(service, tok, profile), catalog, zipped, preset_name, overrides, progress
            )

        run.click(
            on_import,
            [token, catalog_file, images_zip, preset, mapping],
            [summary, rejected],
            api_visibility="private",
            concurrency_limit=1,
            concurrency_id="import",  # one bulk import at a time; searches are not held up
        )

    with gr.Tab("My items"):
        with gr.Row():
            page = gr.Number(label="Page", value=1, precision=0, minimum=1)
            list_btn = gr.Button("List my items")
        table = gr.Dataframe(headers=["item", "title", "category", "price", "images"], interactive=False)

        def on_list(tok, page_, profile: gr.OAuthProfile | None = None):
            return my_items(service, caller(service, tok, profile), page_)

        list_btn.click(on_list, [token, page], table, api_visibility="private")
        with gr.Row():
            item_id = gr.Number(label="Item # to edit", precision=0)
            load_btn = gr.Button("Load")
        edit_status = gr.Markdown()
        e_title = gr.Textbox(label="Title")
        e_description = gr.Textbox(label="Description", lines=3)
        with gr.Row():
            e_price = gr.Number(label="Price", minimum=0)
            e_category = gr.Textbox(label="Category")
            e_brand = gr.Textbox(label="Brand")
        remove = gr.CheckboxGroup(label="Remove images", choices=[])
        add_images = gr.File(label="Add images", file_count="multiple", file_types=["image"])
        with gr.Row():
            save_btn = gr.Button("Save changes", variant="primary")
            delete_btn = gr.Button("Delete item", variant="stop")

        def on_load(tok, item, profile: gr.OAuthProfile | None = None):
            return load_for_edit(service, caller(service, tok, profile), item)

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
            actor = caller(service, tok, profile)
            return save_edit(service, actor, item, title_, description_, price_, category_, brand_, add_, remove_)

        def on_delete(tok, item, profile: gr.OAuthProfile | None = None):
            return delete_item(service, caller(service, tok, profile), item)

        load_btn.click(
            on_load,
            [token, item_id],
            [edit_status, e_title, e_description, e_price, e_category, e_brand, remove],
            api_visibility="private",
        )
        save_btn.click(
            on_save_edit,
            [token, item_id, e_title, e_description, e_price, e_category, e_brand, add_images, remove],
            edit_status,
            api_visibility="private",
        )
        delete_btn.click(on_delete, [token, item_id], edit_status, api_visibility="private")
