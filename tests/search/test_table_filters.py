"""Filter masks over the item table compare integer codes made once per table; they select what string equality
selects, for values absent from the catalog too, and a table spliced by an edit gets its own codes."""

from __future__ import annotations

import numpy as np

from recsys.search.filters import FILTER_SETS_KEPT, SearchFilters, allowed_id_set, allowed_ids, filter_mask
from recsys.search.table import ItemTable
from recsys.search.table_splice import spliced_table


def _table(ids, leaf, gender, colour, price) -> ItemTable:
    n = len(ids)
    zeros = np.zeros(n, np.float32)
    objects = [np.array(v, dtype=object) for v in (leaf, gender, colour)]
    return ItemTable(
        np.asarray(ids, np.int64), [f"item {i}" for i in ids], [""] * n, [""] * n, *objects,
        np.asarray(price, np.float32), zeros, zeros, zeros, zeros, zeros, np.zeros(n, bool),
    )  # fmt: skip


LEAF = ["Shirts", "Dresses", "Shirts", "Watches", "", "Dresses"]
GENDER = ["Men", "Women", "Women", "Unisex", "Women", ""]
COLOUR = ["Red", "Red", "Blue", "", "Blue", "Red"]
PRICE = [10, 20, np.nan, 40, 50, 60]


def test_masks_select_what_string_equality_selects():
    table = _table(range(1, 7), LEAF, GENDER, COLOUR, PRICE)
    cases = [
        SearchFilters(gender=("Women",)),
        SearchFilters(category=("Shirts", "Dresses"), colour=("Red",)),
        SearchFilters(gender=("Women", "Men"), max_price=30),
        SearchFilters(colour=("Green",)),  # in no row
        SearchFilters(category=("Dresses",), gender=("Nobody",)),
    ]
    for filters in cases:
        want = np.ones(6, bool)
        for column, values in (("leaf", filters.category), ("gender", filters.gender), ("colour", filters.colour)):
            if values:
                want &= np.isin(np.array(getattr(table, column), dtype=object), list(values))
        if filters.max_price is not None:
            want &= table.price <= filters.max_price
        assert filter_mask(table, filters).tolist() == want.tolist(), filters


def test_an_edited_table_has_its_own_codes():
    table = _table(range(1, 7), LEAF, GENDER, COLOUR, PRICE)
    assert filter_mask(table, SearchFilters(colour=("Green",))).sum() == 0  # codes of this table made here
    edit = _table([3, 7], ["Shirts", "Socks"], ["Women", "Girls"], ["Green", "Green"], [5, 6])
    edited = spliced_table(table, np.array([5], np.int64), edit)  # item 3 recoloured, 7 added, 5 deleted
    assert edited.ids.tolist() == [1, 2, 3, 4, 6, 7]
    assert edited.ids[filter_mask(edited, SearchFilters(colour=("Green",)))].tolist() == [3, 7]
    assert edited.ids[filter_mask(edited, SearchFilters(gender=("Women",)))].tolist() == [2, 3]
    assert table.ids[filter_mask(table, SearchFilters(gender=("Women",)))].tolist() == [2, 3, 5]  # old one unchanged


def test_a_repeated_filter_reads_the_id_set_the_table_kept():
    table = _table(range(1, 7), LEAF, GENDER, COLOUR, PRICE)
    women = SearchFilters(gender=("Women",))
    kept = allowed_id_set(table, women)
    assert kept is not None and kept.ids.tolist() == allowed_ids(table, women).tolist() == [2, 3, 5]
    assert allowed_id_set(table, SearchFilters(gender=("Women",))) is kept  # equal filters, one set
    assert allowed_id_set(table, SearchFilters()) is None  # no filter: no restriction
    priced = SearchFilters(gender=("Women",), max_price=30)
    assert allowed_id_set(table, priced).ids.tolist() == [2]  # unknown price (item 3) filtered out
    others = [SearchFilters(min_price=float(p)) for p in range(FILTER_SETS_KEPT)]
    for filters in others:
        assert allowed_id_set(table, filters).ids.tolist() == allowed_ids(table, filters).tolist()
    again = allowed_id_set(table, women)  # dropped as least recently used, made again alike
    assert again is not kept and again.ids.tolist() == [2, 3, 5]
    edited = spliced_table(table, np.array([5], np.int64), _table([3], ["Shirts"], ["Men"], ["Red"], [5]))
    assert allowed_id_set(edited, women).ids.tolist() == [2]  # the edited table's own sets
    assert allowed_id_set(table, women) is again  # the old snapshot's stay as they were
