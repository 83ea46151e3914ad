"""The merchant flows of issue 14, through the tab's event functions on a real service: an item without images is
listed with the placeholder, a double Save adds one item, an empty price stays empty, items are picked from the
merchant's own list, "remove images" shows thumbnails, delete needs a confirmation, and the bulk upload explains its
format and names every file it did not use."""

from __future__ import annotations

import gradio as gr
import pytest

from recsys.accounts.principal import ADMIN, MERCHANT, Principal
from recsys.catalog.bulk_files import CATALOG_SUFFIXES, TEMPLATE_CSV
from recsys.service.catalog import CatalogService
from recsys.ui import merchant_bulk, merchant_edit, merchant_tab
from recsys.ui.merchant_forms import BLANK_REVIEWS
from recsys.ui.placeholder import placeholder_image
from tests.catalog.bad_inputs import jpeg, write_csv, write_zip

SHOP = Principal("shop", MERCHANT)
OTHER = Principal("other-shop", MERCHANT)
BOSS = Principal("boss", ADMIN)
FORM = ("title", "description", "price", "category", "brand", "images", "reviews")


@pytest.fixture
def service(settings):
    svc = CatalogService(settings)
    yield svc
    svc.close()


def click_save(service, actor, form: dict) -> str:
    """One click of Save as the browser makes it: the form's current values in, the outputs written back."""
    outputs = merchant_tab.save_new_item(service, actor, *(form[name] for name in FORM))
    for name, value in zip(FORM, outputs[2:]):
        if not isinstance(value, dict):  # gr.skip() leaves the field as it is
            form[name] = value
    return outputs[0]


def new_form(**fields) -> dict:
    form = {"title": "", "description": "", "price": "", "category": "", "brand": "", "images": None}
    form["reviews"] = BLANK_REVIEWS
    return {**form, **fields}


def test_a_double_save_adds_one_item_and_clears_the_form(service):
    form = new_form(title="Linen shirt", price="30", category="Apparel > Shirts")
    first = click_save(service, SHOP, form)
    second = click_save(service, SHOP, form)
    assert "Saved item" in first and "Nothing to save" in second
    assert service.stats()["items"] == 1
    assert form == new_form()  # cleared: ready for the next item


def test_a_refused_save_keeps_what_was_typed(service):
    form = new_form(title="<b>bold</b>", price="12.50")
    assert "Nothing was saved" in click_save(service, SHOP, form)
    assert form["title"] == "<b>bold</b>" and form["price"] == "12.50" and service.stats()["items"] == 0


def test_an_item_without_images_is_listed_with_the_placeholder_and_no_price(service, tmp_path):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(jpeg())
    bare = click_save(service, SHOP, new_form(title="Bare tote"))
    assert "Saved item" in bare
    click_save(service, SHOP, new_form(title="Pictured tote", price="9.99", images=[str(photo)]))
    click_save(service, OTHER, new_form(title="Someone else's tote"))
    listing = merchant_edit.my_items(service, SHOP)
    assert [caption for _, caption in listing.entries] == [f"#{listing.item_ids[0]} Pictured tote · 9.99 USD"] + [
        f"#{listing.item_ids[1]} Bare tote"
    ]
    pictured, bare_image = (path for path, _ in listing.entries)
    assert bare_image == placeholder_image() and pictured != bare_image
    assert listing.choices == [(f"#{i} {t}", i) for i, t in zip(listing.item_ids, ["Pictured tote", "Bare tote"])]
    bare_item = service.get_item(listing.item_ids[1])
    assert bare_item.price is None  # an empty price is no price, not 0.00
    loaded = merchant_edit.load_for_edit(service, SHOP, bare_item.id)
    assert loaded.price == "" and loaded.thumbnails == ()
    saved = merchant_edit.save_edit(service, SHOP, bare_item.id, "Bare tote", "now described", "", "", "", None, [])
    assert saved.price == "" and service.get_item(bare_item.id).price is None
    assert merchant_edit.load_for_edit(service, SHOP, listing.item_ids[0]).price == "9.99"
    free = merchant_edit.save_edit(service, SHOP, bare_item.id, "Bare tote", "", "0", "", "", None, [])
    assert free.price == "0.00" and service.get_item(bare_item.id).price == 0.0  # zero is a price, empty is none
    everyone = merchant_edit.my_items(service, BOSS)
    assert len(everyone.item_ids) == 3 and ("(other-shop)" in everyone.choices[0][0])


def test_the_gallery_click_picks_the_item_and_remove_images_shows_thumbnails(service, tmp_path):
    paths = []
    for n, colour in enumerate([(200, 0, 0), (0, 200, 0)]):
        paths.append(tmp_path / f"p{n}.jpg")
        paths[-1].write_bytes(jpeg(colour))
    item = service.add_item(SHOP, {"title": "Two-photo bag"}, [str(p) for p in paths])
    listing = merchant_edit.my_items(service, SHOP)
    picked = merchant_edit.pick_from_gallery(listing.item_ids, 0)
    assert picked == item.id and merchant_edit.pick_from_gallery(listing.item_ids, 5) is None
    form = merchant_edit.load_for_edit(service, SHOP, picked)
    stored = [str(image.path) for image in service.get_item(item.id).images]
    assert [path for path, _ in form.thumbnails] == stored  # one picture per "remove" box, in the same order
    assert [label for _, label in form.thumbnails] == [label for label, _ in form.image_choices]
    assert "not one of your items" in merchant_edit.load_for_edit(service, OTHER, picked).message


def test_delete_asks_first_and_deletes_only_on_confirmation(service):
    item = service.add_item(SHOP, {"title": "Keep me until I say so"})
    question, row, pending = merchant_edit.request_delete(service, SHOP, item.id)
    assert "Delete item" in question and "cannot be undone" in question and row["visible"] and pending == item.id
    assert service.get_item(item.id)  # asking deleted nothing
    assert "Nothing was deleted" in merchant_edit.cancel_delete()[0]
    other = service.add_item(SHOP, {"title": "Picked after asking"})
    switched = merchant_edit.confirm_delete(service, SHOP, pending, other.id)  # the form moved to another item
    assert "Nothing was deleted" in switched.message and service.stats()["items"] == 2
    refused = merchant_edit.confirm_delete(service, OTHER, pending, item.id)
    assert "Not deleted" in refused.message and service.get_item(item.id)
    done = merchant_edit.confirm_delete(service, SHOP, pending, item.id)
    assert "Deleted item" in done.message and done.item_id is None and service.stats()["items"] == 1
    assert done.outputs()[-2] == gr.update(visible=False)


def test_bulk_help_lists_each_column_and_the_template_downloads(service):
    help_text = merchant_bulk.format_help(service.settings)
    for name, required, _, _ in merchant_bulk.BULK_COLUMNS:
        assert f"| `{name}` | {'**required**' if required else 'optional'} |" in help_text
    assert all(suffix in help_text for suffix in CATALOG_SUFFIXES)
    header = TEMPLATE_CSV.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == [name for name, *_ in merchant_bulk.BULK_COLUMNS]


def test_bulk_report_names_every_file_it_did_not_use(service, tmp_path):
    csv_path = write_csv(tmp_path / "catalog.csv", ["id", "title", "images"], [["a", "Shirt", "a.jpg"]])
    zipped = write_zip(tmp_path / "images.zip", {"a.jpg": jpeg(), "spare.jpg": jpeg((5, 5, 5)), "notes.txt": b"x"})
    stray = tmp_path / "price-list.docx"
    stray.write_bytes(b"not a catalog")
    summary, rows = merchant_bulk.bulk_import(service, SHOP, [str(csv_path), str(zipped), str(stray)], "default", "")
    assert "1 added" in summary and rows == []
    assert "`price&#45;list&#46;docx`" in summary  # named, escaped for Markdown
    assert "not images, ignored: `notes&#46;txt`" in summary
    assert "images no row names, not imported: `spare&#46;jpg`" in summary

    two = write_csv(tmp_path / "second.csv", ["id", "title"], [["b", "Tee"]])
    refused, _ = merchant_bulk.bulk_import(service, SHOP, [str(csv_path), str(two)], "default", "")
    assert "Nothing was imported" in refused and "one catalog file at a time" in refused
    only_stray, _ = merchant_bulk.bulk_import(service, SHOP, [str(stray)], "default", "")
    assert "Choose a catalog file" in only_stray and "price&#45;list&#46;docx" in only_stray
    assert service.stats()["items"] == 1


def test_bulk_upload_takes_a_parquet_catalog(service, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"id": ["p1", "p2"], "title": ["Parquet tee", None]}), tmp_path / "catalog.parquet")
    summary, rows = merchant_bulk.bulk_import(service, SHOP, [str(tmp_path / "catalog.parquet")], "default", "")
    assert "1 added" in summary and "1 rejected" in summary
    assert rows[0][:2] == [2, "p2"] and "title" in rows[0][2]
