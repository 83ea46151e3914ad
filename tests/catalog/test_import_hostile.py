"""Bulk imports of broken or hostile files: a poisoned row costs that row only, a refused file writes nothing,
and every row of the file is accounted for in the report."""

from __future__ import annotations

import json
import zipfile

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.catalog import importer
from tests.catalog.bad_inputs import jpeg, write_csv, write_zip

HEADER = ["id", "title", "price", "reviews"]


def _rows(n: int) -> list[list[object]]:
    return [[f"sku{i}", f"Shirt {i}", "10", ""] for i in range(1, n + 1)]


def _accounted(report) -> None:
    """Every row is added, updated, unchanged or rejected: none vanishes."""
    assert report.added + report.updated + report.unchanged + len(report.rejected) == report.total_rows


POISONS = {
    "nan": '[{"rating": NaN, "text": "x"}]',
    "infinity": '[{"rating": Infinity, "text": "x"}]',
    "overflow": '[{"rating": 1e999}]',
    "true": '[{"rating": true}]',
    "not-an-object": '[{"rating": 5}, 7]',
    "deep-nesting": "[" * 50_000 + "]" * 50_000,
    "5000-digits": '[{"rating": 1' + "0" * 5000 + "}]",
}


@pytest.mark.parametrize("poison", list(POISONS.values()), ids=list(POISONS))
@pytest.mark.parametrize("at", [1, 500, 501, 550, 600])
def test_one_poisoned_row_anywhere_costs_that_row_only(service, tmp_path, poison, at):
    """The issue's case: a NaN rating at row 550 of 600 crashed the import after the first 500 rows."""
    rows = _rows(600)
    rows[at - 1][3] = poison
    report = service.import_bundle(SYSTEM, write_csv(tmp_path / "c.csv", HEADER, rows), None)
    assert report.ok and report.total_rows == 600
    assert [(e.row, e.id) for e in report.rejected] == [(at, f"sku{at}")]
    assert report.added == 599 and service.stats()["items"] == 599
    assert service.stats()["reviews"] == 0


def test_a_bug_in_checking_one_row_rejects_that_row_and_imports_the_rest(service, tmp_path, monkeypatch):
    real = importer.validate_item

    def flaky(raw, **kwargs):
        if raw["external_id"] == "sku3":
            raise ZeroDivisionError("a bug")
        return real(raw, **kwargs)

    monkeypatch.setattr(importer, "validate_item", flaky)
    report = service.import_bundle(SYSTEM, write_csv(tmp_path / "c.csv", HEADER, _rows(5)), None)
    assert report.added == 4 and [(e.row, e.id) for e in report.rejected] == [(3, "sku3")]
    assert "internal error ZeroDivisionError" in report.rejected[0].reasons[0]


def test_unterminated_quote_rejects_its_line_and_reads_the_rest(service, tmp_path):
    """A quote never closed used to swallow the rest of the file: '1 rows, 1 rejected'."""
    path = tmp_path / "c.csv"
    path.write_text(
        'id,title,price\nsku1,Shirt 1,10\nsku2,"Shirt 2,10\nsku3,Shirt 3,10\nsku4,Shirt 4,10\n', encoding="utf-8"
    )
    report = service.import_bundle(SYSTEM, path, None)
    assert report.total_rows == 4 and report.added == 3
    assert [e.row for e in report.rejected] == [2]
    assert "line 3" in report.rejected[0].reasons[0] and "never closed" in report.rejected[0].reasons[0]
    assert {i.external_id for i in service.browse().items} == {"sku1", "sku3", "sku4"}
    _accounted(report)


def test_quote_closed_rows_later_is_caught_too(service, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        'id,title,price\nsku1,"Shirt 1,10\nsku2,Shirt 2,10\nsku3,"Shirt, 3",10\nsku4,Shirt 4,10\n', encoding="utf-8"
    )
    report = service.import_bundle(SYSTEM, path, None)
    assert report.total_rows == 4 and report.added == 3 and [e.row for e in report.rejected] == [1]
    assert {i.title for i in service.browse().items} == {"Shirt 2", "Shirt, 3", "Shirt 4"}


def test_quoted_line_breaks_in_a_description_are_kept(service, tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        ["id", "title", "description"],
        [["a", "Shirt", "line one\nline two"], ["b", "Dress", "plain"]],
    )
    report = service.import_bundle(SYSTEM, path, None)
    assert report.added == 2 and not report.rejected
    assert {i.description for i in service.browse().items} == {"line one\nline two", "plain"}


def test_a_title_swallowing_a_line_is_refused_not_merged(service, tmp_path):
    """A runaway quote that happens to end with the right number of fields gives a title with a line break."""
    path = tmp_path / "c.csv"
    path.write_text('id,title,price\nsku1,"Shirt 1,10\nsku2,Shirt 2",10\nsku3,Shirt 3,10\n', encoding="utf-8")
    report = service.import_bundle(SYSTEM, path, None)
    assert report.added == 1 and "line break" in report.rejected[0].reasons[0]
    _accounted(report)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: None, "cannot be read"),
    ],
)
def test_catalog_path_that_is_no_file_is_refused(service, tmp_path, make, reason):
    path = tmp_path / "catalog.csv"
    make(path)
    report = service.import_bundle(SYSTEM, path, None)
    assert not report.ok and reason in report.refused and service.stats()["items"] == 0


def test_images_zip_that_is_a_directory_is_refused(service, tmp_path):
    (tmp_path / "images.zip").mkdir()
    report = service.import_bundle(SYSTEM, write_csv(tmp_path / "c.csv", HEADER, _rows(2)), tmp_path / "images.zip")
    assert "not a file" in report.refused and service.stats()["items"] == 0


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"limit": -1}, "limit -1"),
        ({"limit": "10"}, "limit '10'"),
        ({"preset": ["fashion"]}, "unknown preset"),
        ({"merchant": "<b>x</b>"}, "HTML"),
        ({"mapping_overrides": 5}, "mapping overrides"),
        ({"mapping_overrides": {"title": 3}}, "must name a column"),
    ],
)
def test_bad_import_arguments_refuse_instead_of_raising(service, tmp_path, kwargs, reason):
    report = service.import_bundle(SYSTEM, write_csv(tmp_path / "c.csv", HEADER, _rows(2)), None, **kwargs)
    assert reason in report.refused and service.stats()["items"] == 0


def test_reimporting_with_a_new_image_each_time_keeps_the_images_the_row_names(service, tmp_path):
    """The issue's case: 15 re-imports with a new image grew the item to 15 images, past the cap of 10."""
    for n in range(15):
        zip_path = write_zip(tmp_path / "i.zip", {f"p{n}.jpg": jpeg((n * 15, 0, 0))})
        path = write_csv(tmp_path / "c.csv", ["id", "title", "images"], [["sku1", "Shirt", f"p{n}.jpg"]])
        report = service.import_bundle(SYSTEM, path, zip_path)
        assert not report.rejected and report.added + report.updated == 1
    assert service.stats()["images"] == 1
    again = service.import_bundle(SYSTEM, path, zip_path)
    assert again.unchanged == 1
    no_images = write_csv(tmp_path / "d.csv", ["id", "title"], [["sku1", "Shirt"]])
    assert service.import_bundle(SYSTEM, no_images, None).unchanged == 1 and service.stats()["images"] == 1


def test_reimport_adds_only_new_reviews(service, tmp_path):
    first = [{"rating": 5, "text": "great"}]
    path = write_csv(tmp_path / "c.csv", HEADER, [["sku1", "Shirt", "10", json.dumps(first)]])
    service.import_bundle(SYSTEM, path, None)
    assert service.import_bundle(SYSTEM, path, None).unchanged == 1
    path = write_csv(tmp_path / "c.csv", HEADER, [["sku1", "Shirt", "10", json.dumps(first + [{"rating": 2}])]])
    assert service.import_bundle(SYSTEM, path, None).updated == 1
    assert service.stats()["reviews"] == 2


def _jsonl(tmp_path, lines: list[str]):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


JSONL_CASES = {
    "id-object": ('{"id": {"a": 1}, "title": "x"}', "id must be text, not an object"),
    "title-list": ('{"id": "j2", "title": ["list", "title"]}', "title must be text, not a list"),
    "price-true": ('{"id": "j2", "title": "x", "price": true}', "price must be a number, not true"),
    "duplicate-key": ('{"id": "j2", "title": "x", "title": "y"}', "repeats the key 'title'"),
    "5000-digits": ('{"id": "j2", "title": "x", "price": 1' + "0" * 5000 + "}", "not valid JSON"),
    "image-numbers": ('{"id": "j2", "title": "x", "images": [1, 2]}', "images must be file names"),
    "image-bad-json": ('{"id": "j2", "title": "x", "images": "[broken"}', "not valid JSON"),
    "unmapped": ('{"id": "j2", "title": "x", "colour": "red"}', None),  # ignored, as an unmapped CSV column
}


@pytest.mark.parametrize("line, reason", list(JSONL_CASES.values()), ids=list(JSONL_CASES))
def test_jsonl_values_of_the_wrong_type_are_refused_not_coerced(service, tmp_path, line, reason):
    report = service.import_bundle(SYSTEM, _jsonl(tmp_path, ['{"id": "j1", "title": "fine"}', line]), None)
    assert report.total_rows == 2
    if reason is None:
        assert report.added == 2
        return
    assert report.added == 1 and [e.row for e in report.rejected] == [2]
    assert reason in " ".join(report.rejected[0].reasons)


def test_jsonl_line_separator_inside_a_string_is_not_a_line_break(service, tmp_path):
    report = service.import_bundle(
        SYSTEM,
        _jsonl(tmp_path, [json.dumps({"id": "j1", "title": "A", "description": "one\u2028two"}, ensure_ascii=False)]),
        None,
    )
    assert report.added == 1 and not report.rejected
    assert service.browse().items[0].description == "one\ntwo"


def test_unreadable_zip_members_reject_their_rows_only(service, tmp_path):
    zip_path = tmp_path / "i.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("good.jpg", jpeg())
        zf.writestr("bad.jpg", jpeg((1, 2, 3)))
    data = bytearray(zip_path.read_bytes())
    offset = data.find(b"bad.jpg") + len(b"bad.jpg") + 40  # inside bad.jpg's compressed bytes
    data[offset : offset + 8] = b"\xff" * 8
    zip_path.write_bytes(bytes(data))
    path = write_csv(tmp_path / "c.csv", ["id", "title", "images"], [["a", "A", "good.jpg"], ["b", "B", "bad.jpg"]])
    report = service.import_bundle(SYSTEM, path, zip_path)
    assert report.added == 1 and [e.id for e in report.rejected] == ["b"]
    assert "image 'bad.jpg'" in report.rejected[0].reasons[0]


@pytest.mark.parametrize("price, stored", [("12.50", 12.5), ("1,299.00", 1299.0), ("0", 0.0), (" 7 ", 7.0)])
def test_prices_that_read_one_way_only_are_accepted(service, tmp_path, price, stored):
    report = service.import_bundle(
        SYSTEM, write_csv(tmp_path / "c.csv", ["id", "title", "price"], [["a", "A", price]]), None
    )
    assert report.added == 1 and service.browse().items[0].price == stored


@pytest.mark.parametrize("price", ["12,50", "1,250", "NaN", "inf", "1e3", "$5", "12.5.0", "1.999"])
def test_prices_that_could_mean_two_things_or_nothing_are_refused(service, tmp_path, price):
    """'12,50' was stored as 1250.00 and 'NaN' accepted."""
    report = service.import_bundle(
        SYSTEM, write_csv(tmp_path / "c.csv", ["id", "title", "price"], [["a", "A", price]]), None
    )
    assert report.added == 0 and "price" in report.rejected[0].reasons[0]
