"""Splicing edited rows into the served table's columns: the same rows as building them afresh, appends written
into spare rows without changing what an older view shows, and a second branch from an old view copied."""

from __future__ import annotations

import numpy as np

from recsys.search.table_splice import append_rows, splice


def test_splice_gives_the_rows_a_fresh_build_would():
    ids = np.array([2, 4, 6, 8])
    columns = {"x": np.array([20.0, 40.0, 60.0, 80.0]), "t": ["b", "d", "f", "h"]}
    part_ids = np.array([3, 6, 9])  # an insert in the middle, an update, an append
    part = {"x": np.array([30.0, 61.0, 90.0]), "t": ["c", "F", "i"]}
    got_ids, got = splice(ids, columns, np.array([4]), part_ids, part)
    assert got_ids.tolist() == [2, 3, 6, 8, 9]
    assert got["x"].tolist() == [20.0, 30.0, 61.0, 80.0, 90.0] and got["t"] == ["b", "c", "F", "h", "i"]
    assert columns["x"].tolist() == [20.0, 40.0, 60.0, 80.0] and columns["t"] == ["b", "d", "f", "h"]  # untouched


def test_appends_reuse_spare_rows_and_never_change_an_older_view():
    first = append_rows(np.arange(6.0).reshape(3, 2), np.array([[6.0, 7.0]]))
    second = append_rows(first, np.array([[8.0, 9.0]]))
    assert second.base is first.base  # written in place: no copy of the rows before
    assert first.shape == (4, 2) and first[-1].tolist() == [6.0, 7.0]
    branch = append_rows(first, np.array([[-1.0, -1.0]]))  # from the older view again: must not overwrite
    assert branch.base is not first.base and branch[-1].tolist() == [-1.0, -1.0]
    assert second[-1].tolist() == [8.0, 9.0] and second.shape == (5, 2)
