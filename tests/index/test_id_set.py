"""IdSet: the allowed-id filter every index reads; the dense table and the sparse fallback answer alike."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.index.arrays import IdSet, as_id_set
from recsys.index.vector import VectorIndex
from tests.index.data import clustered, queries_near


@pytest.mark.parametrize("scale", [1, 10**9], ids=["dense-table", "sparse-ids"])
def test_membership_matches_isin_for_any_ids_asked(scale):
    rng = np.random.default_rng(3)
    members = rng.choice(50_000, 4_000, replace=False).astype(np.int64) * scale
    asked = np.concatenate([members[:500], rng.integers(0, 60_000, 2_000) * scale, [-1, 0, 10**15]])
    chosen = IdSet(members)  # unsorted input is sorted once
    assert (chosen._table is None) == (scale > 1)
    assert np.array_equal(chosen.contains(asked), np.isin(asked, members) & (asked >= 0))
    assert len(chosen) == 4_000 and np.array_equal(chosen.ids, np.sort(members))


def test_without_and_empty_sets():
    chosen = IdSet([5, 3, 3, 9]).without([3, 100])
    assert chosen.ids.tolist() == [5, 9]
    assert chosen.contains(np.array([3, 5, 9, -1])).tolist() == [False, True, True, False]
    assert not IdSet([]).contains(np.array([0, 1])).any()
    assert as_id_set(chosen) is chosen and as_id_set([1, 2]).ids.tolist() == [1, 2]
    with pytest.raises(ValueError):
        IdSet([-1, 2])  # -1 is padding, never an id


def test_a_vector_search_reads_an_id_set_as_the_same_ids():
    x = clustered(2_000, 16)
    ids = np.arange(2_000, dtype=np.int64) * 3 + 1
    index = VectorIndex(16, "Flat")
    index.build(ids, x)
    index.remove(ids[:50])  # tombstoned positions (-1) must stay out whatever the filter holds
    allowed = ids[::4]
    q = queries_near(x, 5)
    by_array, by_set = index.search(q, 10, allowed), index.search(q, 10, IdSet(allowed))
    assert np.array_equal(by_array[1], by_set[1]) and np.array_equal(by_array[0], by_set[0])
    assert np.isin(by_set[1], allowed[allowed > ids[49]]).all()
