"""VectorIndex add/remove/replace on every family, including compaction of tombstones."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.index.vector import VectorIndex
from tests.index.data import brute_force, clustered, queries_near

DIM = 16


@pytest.mark.parametrize("factory", ["Flat", "HNSW32", "IVF8,Flat"])
def test_add_remove_replace(factory):
    x = clustered(600, DIM, seed=2)
    ids = np.arange(600, dtype=np.int64) + 1000
    index = VectorIndex(DIM, factory)
    index.build(ids[:400], x[:400])
    assert index.effective_factory == factory
    index.add(ids[400:], x[400:])
    assert len(index) == 600

    removed = ids[::3]
    assert index.remove(np.concatenate([removed, [5]])) == removed.size  # unknown id ignored
    live = ~np.isin(ids, removed)
    assert len(index) == live.sum()
    np.testing.assert_array_equal(index.ids(), ids[live])

    # Replace an id with the exact opposite direction: searching for the new vector must return it first.
    target = ids[1]
    index.add(np.array([target]), -x[1:2])
    assert len(index) == live.sum()
    scores, found = index.search(-x[1:2], 5)
    assert found[0, 0] == target and scores[0, 0] == pytest.approx(1.0, abs=1e-4)
    assert np.count_nonzero(found == target) == 1

    q = queries_near(x, 20, seed=3)
    _, found = index.search(q, 10)
    assert not np.isin(found, removed).any()


def test_exhaustive_search_after_edits_matches_brute_force():
    x = clustered(300, DIM, seed=4)
    ids = np.arange(300, dtype=np.int64)
    index = VectorIndex(DIM)
    index.build(ids, x)
    index.remove(ids[:50])  # below the compaction threshold: tombstones filtered by selector
    assert index._labels.size == 300
    q = queries_near(x, 10, seed=5)
    np.testing.assert_array_equal(index.search(q, 8)[1], brute_force(x[50:], ids[50:], q, 8)[1])
    index.remove(ids[50:100])  # crosses 25%: compacted
    assert index._labels.size == 200
    np.testing.assert_array_equal(index.search(q, 8)[1], brute_force(x[100:], ids[100:], q, 8)[1])


def test_add_to_empty_ivf_trains_it():
    x = clustered(400, DIM, seed=6)
    index = VectorIndex(DIM, "IVF8,Flat")
    assert len(index) == 0
    index.add(np.arange(400), x)
    assert index.effective_factory == "IVF8,Flat" and len(index) == 400


def test_copy_is_independent():
    x = clustered(100, DIM, seed=7)
    index = VectorIndex(DIM)
    index.build(np.arange(100), x)
    clone = index.copy()
    clone.remove(np.arange(50))
    assert len(index) == 100 and len(clone) == 50
