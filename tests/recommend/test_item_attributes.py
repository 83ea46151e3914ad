"""The served model's titles and attributes as columns: the same strings and dicts back per item, sorted value
codes (as the attribute hyperedges numbered them), saved as arrays; versions saved as lists in the meta still load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recsys.recommend import served_store
from recsys.recommend.item_attributes import ABSENT, ItemAttributes
from recsys.recommend.lists import cold_start
from recsys.recommend.served import EventRow, ItemRow, fit_served, item_attributes
from recsys.recommend.text_column import TextColumn

ROWS = [
    {"type": "Shirts", "colour": "Red"},
    {"type": "Dresses", "brand": "Acme"},
    {},
    {"type": "Shirts", "brand": "Acme", "category": "Apparel > Shirts"},
]


def test_rows_come_back_as_the_dicts_they_were_made_from():
    attributes = ItemAttributes.from_dicts(ROWS)
    assert len(attributes) == 4 and list(attributes) == ROWS and attributes[1:3] == ROWS[1:3]
    assert attributes.values["type"] == ["Dresses", "Shirts"]  # sorted, as np.unique numbers them
    assert attributes.codes["type"].tolist() == [1, 0, ABSENT, 1]
    assert attributes.value("brand", 3) == "Acme" and attributes.value("brand", 0) is None
    assert attributes.column("colour", "-") == ["Red", "-", "-", "-"]
    again = ItemAttributes.from_state(attributes.state())
    assert list(again) == ROWS


def test_titles_as_one_buffer_decode_each_title():
    titles = TextColumn.from_strings(["Red shirt", "", "连衣裙 dress", "Über-soft scarf"])
    assert len(titles) == 4 and list(titles) == ["Red shirt", "", "连衣裙 dress", "Über-soft scarf"]
    assert titles[-1] == "Über-soft scarf" and titles[1:3] == ["", "连衣裙 dress"]
    with pytest.raises(IndexError):
        titles[4]
    assert list(TextColumn.from_state(titles.state("t"), "t")) == list(titles)
    assert len(TextColumn.from_strings([])) == 0


def shop():
    items = [
        ItemRow(i, f"Item {i}", "Apparel > " + kind, brand, {"articleType": kind, "baseColour": colour})
        for i, (kind, brand, colour) in enumerate(
            [("Shirts", "Acme", "Red"), ("Shirts", "Acme", "Blue"), ("Dresses", "Zed", "Red"), ("Watches", "", "")] * 5
        )
    ]
    events = [EventRow(f"s{n % 4}", f"s{n % 4}", n % 20, "purchase", f"o{n // 3}") for n in range(30)]
    return items, events


def test_the_fitted_model_holds_each_items_attributes_and_groups_by_type():
    items, events = shop()
    model = fit_served(items, events)
    assert list(model.attributes) == [item_attributes(r) for r in sorted(items, key=lambda r: r.item_id)]
    assert model.shared_attributes(0, 4) == ["Shirts", "Acme", "Red"]  # same type, brand and colour
    assert model.shared_attributes(0, 1) == ["Shirts", "Acme"] and model.shared_attributes(0, 3) == []
    groups = model.type_groups()
    assert sorted(map(tuple, groups)) == sorted(
        tuple(i for i in range(20) if items[i].attributes["articleType"] == kind)
        for kind in ("Shirts", "Dresses", "Watches")
    )
    picks = cold_start(model, 6, 0.5, "new shopper")
    kinds = [model.attributes.value("type", p.index) for p in picks]
    assert len(picks) == 6 and len(set(p.index for p in picks)) == 6 and {"Shirts", "Dresses", "Watches"} <= set(kinds)


def test_a_version_saved_with_one_dict_per_item_still_loads(tmp_path):
    items, events = shop()
    model = fit_served(items, events)
    meta = {"version": "rec-old", "created_at": "2026-01-01T00:00:00+00:00", "fingerprint": "f"}
    folder = served_store.save_served(tmp_path, model, meta)
    lists = folder / "lists.json"
    written = json.loads(lists.read_text())
    old = {**written, "attributes": list(model.attributes), "titles": list(model.titles)}  # the old layout's meta
    lists.write_text(json.dumps(old))
    loaded = served_store.load_served(tmp_path, "rec-old")
    assert list(loaded.attributes) == list(model.attributes) and list(loaded.titles) == list(model.titles)
    for group in model.attributes.codes:
        np.testing.assert_array_equal(loaded.attributes.codes[group], model.attributes.codes[group])
