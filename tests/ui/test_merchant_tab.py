"""The Merchant tab's event functions, called as Gradio calls them (file paths, grid rows), on a real service."""

import pandas as pd
import pytest

from recsys.accounts.principal import MERCHANT, SYSTEM, Principal
from recsys.service.catalog import CatalogService
from recsys.ui import catalog_tab, merchant_bulk, merchant_edit, merchant_tab
from tests.catalog.bad_inputs import jpeg, truncated_jpeg, write_csv, write_zip

SHOP = Principal("shop", MERCHANT)


@pytest.fixture
def service(settings):
    svc = CatalogService(settings)
    yield svc
    svc.close()


@pytest.fixture
def photos(tmp_path):
    paths = []
    for n, color in enumerate([(0, 0, 120), (120, 0, 0)]):
        path = tmp_path / f"photo{n}.jpg"
        path.write_bytes(jpeg(color))
        paths.append(str(path))
    return paths


def test_upload_two_images_three_reviews_then_browse_edit_delete(service, photos, tmp_path):
    reviews = pd.DataFrame(
        [[5, "Love it", "Great fit"], [4, "", "Nice"], [2, "Meh", "Too small"], [None, "", ""]],
        columns=merchant_tab.REVIEW_COLUMNS,
    )
    message, item_id = merchant_tab.create_item(
        service, SHOP, "Navy casual shirt", "Soft cotton", 24.5, "Apparel > Shirts", "Acme", photos, reviews
    )
    assert "Saved item" in message and item_id
    entries, ids, label, _ = catalog_tab.browse(service, 1, "", "", "")
    assert ids == [item_id] and entries[0][1].startswith(f"#{item_id} Navy casual shirt") and "1 items" in label
    markdown, images = catalog_tab.detail(service, item_id)
    assert len(images) == 2 and "Great fit" in markdown and "Reviews (3)" in markdown

    loaded = merchant_edit.load_for_edit(service, SHOP, item_id)
    assert loaded.title == "Navy casual shirt" and len(loaded.image_choices) == 2
    first_image = loaded.image_choices[0][1]
    extra = tmp_path / "extra.png"
    extra.write_bytes(jpeg((0, 200, 0)))
    saved = merchant_edit.save_edit(
        service,
        SHOP,
        item_id,
        "Navy oxford shirt",
        "Soft cotton",
        20,
        "Apparel > Shirts",
        "Acme",
        [str(extra)],
        [first_image],
    )
    assert "Updated" in saved.message and len(saved.thumbnails) == 2 and first_image not in dict(saved.image_choices)
    assert "Navy oxford shirt" in catalog_tab.detail(service, item_id)[0]
    assert merchant_edit.my_items(service, SHOP).choices == [(f"#{item_id} Navy oxford shirt", item_id)]

    someone_else = Principal("someone-else", MERCHANT)
    refused = merchant_edit.delete_item(service, someone_else, item_id)
    assert "not yours" in refused and "shop" not in refused  # the refusal does not name the owner
    assert "Deleted" in merchant_edit.delete_item(service, SHOP, item_id)
    assert catalog_tab.browse(service, 1, "", "", "")[1] == []


def test_bad_upload_shows_every_problem_and_saves_nothing(service, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(truncated_jpeg())
    message, item_id = merchant_tab.create_item(
        service,
        SHOP,
        "<img src=x onerror=alert(1)>",
        "",
        "<img src=y>",
        "",
        "",
        [str(broken)],
        [[9, "", "bad rating"]],
    )
    assert item_id is None and "Nothing was saved" in message
    assert "HTML" in message and "not a number" in message and "1 to 5" in message and "cannot be decoded" in message
    assert "&lt;img src=y&gt;" in message and "<img" not in message  # echoed input is escaped
    assert service.stats()["items"] == 0


def test_titles_are_escaped_in_the_detail_view(service, photos):
    item = service.add_item(SYSTEM, {"title": "Shirt & tie", "description": "5 < 6 > 4"}, photos[:1])
    markdown, _ = catalog_tab.detail(service, item.id)
    assert "Shirt &amp; tie" in markdown and "5 &lt; 6 &gt; 4" in markdown


def test_bulk_upload_reports_rejected_rows(service, tmp_path):
    csv_path = write_csv(
        tmp_path / "c.csv", ["id", "title", "images"], [["a", "Red dress", "a.jpg"], ["b", "Blue dress", "missing.jpg"]]
    )
    zip_path = write_zip(tmp_path / "i.zip", {"a.jpg": jpeg()})
    summary, rows = merchant_bulk.bulk_import(service, SHOP, [str(csv_path), str(zip_path)], "default", "")
    assert "1 added" in summary and rows == [[2, "b", "image 'missing.jpg': is not in the zip"]]
    summary, rows = merchant_bulk.bulk_import(service, SHOP, None, "default", "")
    assert "Choose a catalog file" in summary


def test_app_builds_with_all_tabs(small_search_service):
    from recsys.ui.app import build_app

    demo = build_app(small_search_service)
    from recsys.ui.i18n import english

    labels = {english(getattr(block, "label", None)) for block in demo.blocks.values()}
    assert {"Search", "Catalog", "Merchant", "Evaluation"} <= labels
