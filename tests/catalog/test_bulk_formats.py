"""Bulk files beyond CSV: Parquet catalogs (an H&M-style articles table), the shipped template, zip images no row
names, and an empty price that stays empty through every import format."""

from __future__ import annotations

import json

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.catalog.bulk_files import TEMPLATE_CSV
from recsys.catalog.mapping import ColumnMapping
from tests.catalog.bad_inputs import jpeg, write_csv, write_zip

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

# The H&M articles table's own column names (a subset), as it arrives from Kaggle.
HM_MAPPING = "\n".join(
    [
        "id=article_id",
        "title=prod_name",
        "description=detail_desc",
        "category=index_group_name,product_group_name,product_type_name",
        "attributes=colour_group_name",
        "image_pattern={id}.jpg",
    ]
)


def write_hm_articles(path, rows):
    columns = ["article_id", "prod_name", "product_type_name", "product_group_name", "index_group_name"]
    columns += ["colour_group_name", "detail_desc"]
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    pq.write_table(table, path)
    return path


def test_an_hm_style_parquet_imports_with_the_same_row_report(service, tmp_path):
    rows = [
        {
            "article_id": 108775015,
            "prod_name": "Strap top",
            "product_type_name": "Vest top",
            "product_group_name": "Garment Upper body",
            "index_group_name": "Ladieswear",
            "colour_group_name": "Black",
            "detail_desc": "Jersey top with narrow shoulder straps.",
        },
        {
            "article_id": 108775044,
            "prod_name": "Strap top",
            "product_type_name": "Vest top",
            "product_group_name": "Garment Upper body",
            "index_group_name": "Ladieswear",
            "colour_group_name": "White",
            "detail_desc": None,  # a null cell: not given
        },
        {"article_id": 110065001, "prod_name": None, "index_group_name": "Ladieswear"},  # no title: rejected
    ]
    catalog = write_hm_articles(tmp_path / "articles.parquet", rows)
    images = write_zip(tmp_path / "images.zip", {"108775015.jpg": jpeg(), "108775044.jpg": jpeg((0, 200, 0))})
    report = service.import_bundle(SYSTEM, catalog, images, mapping_overrides=HM_MAPPING)
    assert (report.total_rows, report.added) == (3, 2), report.summary()
    assert [(e.row, e.id) for e in report.rejected] == [(3, "110065001")]
    assert "title" in report.rejected[0].reasons[0]
    item = service.browse(text="Strap top").items[-1]
    assert item.external_id == "108775015" and item.category == "Ladieswear > Garment Upper body > Vest top"
    assert item.attributes == {"colour_group_name": "Black"} and len(item.images) == 1
    again = service.import_bundle(SYSTEM, catalog, images, mapping_overrides=HM_MAPPING)
    assert (again.added, again.unchanged) == (0, 2)  # the same idempotent re-import as a CSV


def test_parquet_nan_price_is_no_price_and_lists_stay_lists(service, tmp_path):
    table = pa.table(
        {
            "id": ["a", "b"],
            "title": ["Priced tee", "Unpriced tee"],
            "price": [12.5, float("nan")],  # pandas writes a missing price as NaN
            "images": [["a.jpg"], []],
            "reviews": [[{"rating": 4, "title": "ok", "text": "fine"}], []],
        }
    )
    pq.write_table(table, tmp_path / "c.parquet")
    zipped = write_zip(tmp_path / "i.zip", {"a.jpg": jpeg()})
    report = service.import_bundle(SYSTEM, tmp_path / "c.parquet", zipped)
    assert (report.added, report.rejected) == (2, []), report.rejected
    by_title = {i.title: i for i in service.browse().items}
    assert by_title["Priced tee"].price == 12.5 and by_title["Unpriced tee"].price is None
    assert len(service.get_item(by_title["Priced tee"].id).reviews) == 1


def test_a_file_that_is_not_parquet_is_refused_with_a_sentence(service, tmp_path):
    fake = tmp_path / "catalog.parquet"
    fake.write_text("id,title\na,Shirt\n")
    report = service.import_bundle(SYSTEM, fake)
    assert not report.ok and "not a readable Parquet file" in report.refused
    missing = tmp_path / "cols.parquet"
    pq.write_table(pa.table({"sku": ["a"]}), missing)
    assert "lacks required column(s) id, title" in service.import_bundle(SYSTEM, missing).refused
    assert service.stats()["items"] == 0


def test_empty_price_stays_empty_in_csv_and_jsonl(service, tmp_path):
    csv_path = write_csv(tmp_path / "c.csv", ["id", "title", "price"], [["a", "No price", ""], ["b", "Free", "0"]])
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text(json.dumps({"id": "c", "title": "Null price", "price": None}) + "\n")
    assert service.import_bundle(SYSTEM, csv_path).added == 2
    assert service.import_bundle(SYSTEM, jsonl).added == 1
    prices = {i.title: i.price for i in service.browse().items}
    assert prices == {"No price": None, "Free": 0.0, "Null price": None}


def test_zip_images_no_row_names_are_reported_by_name(service, tmp_path):
    csv_path = write_csv(tmp_path / "c.csv", ["id", "title", "images"], [["a", "Shirt", "photos/a.jpg"]])
    members = {"photos/a.jpg": jpeg(), "photos/spare.jpg": jpeg((1, 2, 3)), "notes.txt": b"hi"}
    report = service.import_bundle(SYSTEM, csv_path, write_zip(tmp_path / "i.zip", members))
    assert report.added == 1 and report.ignored_files == ["notes.txt"]
    assert (report.unreferenced_images, report.unreferenced_image_count) == (["photos/spare.jpg"], 1)


def test_the_template_csv_names_the_default_columns_and_imports_cleanly(service, tmp_path):
    header = TEMPLATE_CSV.read_text(encoding="utf-8").splitlines()[0].split(",")
    mapping = ColumnMapping()
    assert set(header) == {mapping.id, mapping.title, mapping.description, mapping.brand, *mapping.category} | {
        mapping.price,
        mapping.currency,
        mapping.images,
        mapping.reviews,
    }
    zipped = write_zip(tmp_path / "i.zip", {"sku-001-front.jpg": jpeg(), "sku-001-back.jpg": jpeg((9, 9, 9))})
    report = service.import_bundle(SYSTEM, TEMPLATE_CSV, zipped)
    assert (report.added, report.rejected, report.unreferenced_images) == (2, [], [])
    tote = service.browse(text="tote").items[0]
    assert tote.price is None and tote.images == []
