import json

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.catalog import repository
from tests.catalog.bad_inputs import huge_png, jpeg, truncated_jpeg, write_csv, write_zip

HEADER = ["id", "title", "description", "price", "category", "images"]


def good_rows(n=4):
    return [[f"sku{i}", f"Shirt {i}", "cotton", f"{10 + i}", "Tops", f"sku{i}.jpg"] for i in range(n)]


def good_zip(tmp_path, n=4, extra=None):
    members = {f"sku{i}.jpg": jpeg((i * 40, 10, 10)) for i in range(n)}
    members.update(extra or {})
    return write_zip(tmp_path / "images.zip", members)


def test_import_adds_rows_and_rerun_adds_nothing(service, tmp_path):
    csv_path = write_csv(tmp_path / "catalog.csv", HEADER, good_rows())
    zip_path = good_zip(tmp_path, extra={"readme.txt": b"hello"})
    first = service.import_bundle(SYSTEM, csv_path, zip_path)
    assert (first.added, first.rejected, first.ignored_files) == (4, [], ["readme.txt"])
    again = service.import_bundle(SYSTEM, csv_path, zip_path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 4)
    assert service.stats()["items"] == 4 and service.stats()["images"] == 4


def test_changed_rows_are_updated_not_duplicated(service, tmp_path):
    zip_path = good_zip(tmp_path)
    service.import_bundle(SYSTEM, write_csv(tmp_path / "a.csv", HEADER, good_rows()), zip_path)
    rows = good_rows()
    rows[1][3] = "99"
    report = service.import_bundle(SYSTEM, write_csv(tmp_path / "b.csv", HEADER, rows), zip_path)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 3)
    assert service.browse(text="Shirt 1").items[0].price == 99


def test_zip_with_parent_path_entry_is_refused_whole(service, tmp_path):
    csv_path = write_csv(tmp_path / "catalog.csv", HEADER, good_rows())
    zip_path = good_zip(tmp_path, extra={"../evil.jpg": jpeg()})
    report = service.import_bundle(SYSTEM, csv_path, zip_path)
    assert not report.ok and "../evil.jpg" in report.refused and "unsafe path" in report.refused
    assert service.stats()["items"] == 0
    assert not (tmp_path / "evil.jpg").exists() and not (service.settings.data_dir.parent / "evil.jpg").exists()


def test_absolute_zip_entry_is_refused(service, tmp_path):
    report = service.import_bundle(
        SYSTEM,
        write_csv(tmp_path / "c.csv", HEADER, good_rows()),
        good_zip(tmp_path, extra={"/etc/passwd.jpg": jpeg()}),
    )
    assert "unsafe path" in report.refused and service.stats()["items"] == 0


@pytest.mark.parametrize(
    "bad, reason",
    [(truncated_jpeg, "cannot be decoded"), (huge_png, "pixel limit"), (lambda: b"GIF89a-not-really", "image")],
)
def test_bad_image_rejects_only_its_row(service, tmp_path, bad, reason):
    rows = good_rows()
    rows[2][5] = "broken.png"
    report = service.import_bundle(
        SYSTEM, write_csv(tmp_path / "c.csv", HEADER, rows), good_zip(tmp_path, extra={"broken.png": bad()})
    )
    assert report.added == 3 and [(e.row, e.id) for e in report.rejected] == [(3, "sku2")]
    assert reason in report.rejected[0].reasons[0]
    assert "sku2" not in {i.external_id for i in service.browse().items}


def test_missing_required_column_refuses_file(service, tmp_path):
    header = ["id", "description", "price"]
    report = service.import_bundle(SYSTEM, write_csv(tmp_path / "c.csv", header, [["a", "x", "1"]]), None)
    assert "lacks required column(s) title" in report.refused and service.stats()["items"] == 0


def test_fashion_preset_requires_its_columns(service, tmp_path):
    header = [
        "id",
        "gender",
        "masterCategory",
        "subCategory",
        "baseColour",
        "season",
        "year",
        "usage",
        "productDisplayName",
    ]  # articleType missing
    report = service.import_bundle(
        SYSTEM, write_csv(tmp_path / "styles.csv", header, [["1"] * 9]), None, preset="fashion"
    )
    assert "articleType" in report.refused and service.stats()["items"] == 0


def test_row_level_problems_are_reported_per_row(service, tmp_path):
    rows = good_rows(3) + [
        ["sku0", "Duplicate id", "", "1", "Tops", ""],
        ["sku9", "<b>bold</b> title", "", "1", "Tops", ""],
        ["sku10", "Negative", "", "-1", "Tops", ""],
        ["sku11", "Missing image", "", "1", "Tops", "nothere.jpg"],
        ["", "No id", "", "1", "Tops", ""],
    ]
    csv_path = write_csv(tmp_path / "c.csv", HEADER, rows)
    with open(csv_path, "a", encoding="utf-8") as fh:
        fh.write("sku12,too,many,fields,here,x.jpg,extra\n")
    report = service.import_bundle(SYSTEM, csv_path, good_zip(tmp_path, n=3))
    reasons = {e.row: " ".join(e.reasons) for e in report.rejected}
    assert report.added == 3
    assert "duplicate id" in reasons[4] and "HTML" in reasons[5] and ">= 0" in reasons[6]
    assert "not in the zip" in reasons[7] and "empty" in reasons[8] and "fields" in reasons[9]


def test_non_utf8_file_is_refused(service, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,title\n1,Caf\xe9 cr\xe8me\n".encode("latin-1"))
    report = service.import_bundle(SYSTEM, path, None)
    assert "not UTF-8" in report.refused and service.stats()["items"] == 0


def test_jsonl_with_reviews_and_several_images(service, tmp_path):
    lines = [
        {
            "id": "j1",
            "title": "Linen dress",
            "price": 40,
            "images": ["a.jpg", "b.jpg"],
            "reviews": [{"rating": 5, "text": "lovely"}, {"rating": 4, "title": "ok", "text": "runs small"}],
        },
        "{not json",
    ]
    path = tmp_path / "catalog.jsonl"
    path.write_text("\n".join(json.dumps(line) if isinstance(line, dict) else line for line in lines), encoding="utf-8")
    report = service.import_bundle(
        SYSTEM, path, write_zip(tmp_path / "i.zip", {"a.jpg": jpeg(), "b.jpg": jpeg((1, 2, 3))})
    )
    assert report.added == 1 and "not valid JSON" in report.rejected[0].reasons[0]
    item = service.browse().items[0]
    full = service.get_item(item.id)
    assert len(full.images) == 2 and [r.rating for r in full.reviews] == [5, 4]


def test_failed_batch_is_rolled_back_whole(service, tmp_path, monkeypatch):
    service.settings = service.settings.replace(import_batch_size=2)
    real_add = repository.add_item
    calls = {"n": 0}

    def flaky_add(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # second row of the second batch
            raise RuntimeError("disk full")
        return real_add(*args, **kwargs)

    monkeypatch.setattr(repository, "add_item", flaky_add)
    report = service.import_bundle(SYSTEM, write_csv(tmp_path / "c.csv", HEADER, good_rows()), good_zip(tmp_path))
    assert report.added == 2 and {e.id for e in report.rejected} == {"sku2", "sku3"}
    assert {i.external_id for i in service.browse().items} == {"sku0", "sku1"}


def test_mapping_overrides(service, tmp_path):
    csv_path = write_csv(tmp_path / "c.csv", ["sku", "name", "cost"], [["1", "Blue jeans", "30"]])
    report = service.import_bundle(SYSTEM, csv_path, None, mapping_overrides="id=sku\ntitle=name\nprice=cost")
    assert report.added == 1 and service.browse().items[0].price == 30
    assert "unknown mapping field" in service.import_bundle(SYSTEM, csv_path, None, mapping_overrides="nope=x").refused


def test_symlink_entry_and_too_many_entries_refuse_the_zip(service, tmp_path):
    import stat
    import zipfile

    csv_path = write_csv(tmp_path / "c.csv", HEADER, good_rows())
    link_zip = tmp_path / "link.zip"
    with zipfile.ZipFile(link_zip, "w") as zf:
        info = zipfile.ZipInfo("sku0.jpg")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    assert "symbolic link" in service.import_bundle(SYSTEM, csv_path, link_zip).refused
    service.settings = service.settings.replace(max_zip_entries=3)
    assert "entries, over the 3 limit" in service.import_bundle(SYSTEM, csv_path, good_zip(tmp_path)).refused
    assert service.stats()["items"] == 0


def test_too_many_images_and_zip_bomb_member_reject_rows(service, tmp_path):
    import zipfile

    service.settings = service.settings.replace(max_images_per_item=2)
    rows = good_rows(2)
    rows[0][5] = "sku0.jpg;sku1.jpg;sku0.jpg"
    rows[1][5] = "bomb.png"
    zip_path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sku0.jpg", jpeg())
        zf.writestr("sku1.jpg", jpeg((1, 2, 3)))
        zf.writestr("bomb.png", b"\0" * 5_000_000)  # inflates ~5000x
    report = service.import_bundle(SYSTEM, write_csv(tmp_path / "c.csv", HEADER, rows), zip_path)
    reasons = {e.id: " ".join(e.reasons) for e in report.rejected}
    assert report.added == 0 and "over the limit of 2" in reasons["sku0"] and "zip bomb" in reasons["sku1"]
