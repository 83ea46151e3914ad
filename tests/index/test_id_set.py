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


@pytest.mark.parametrize("factory", ["Flat", "IVF16,SQ8"])
def test_the_kept_mask_of_one_id_set_follows_edits_of_the_index(factory):
    # The index keeps the mask it made for the last IdSet (the table hands back the same object for a repeated
    # filter); an add or remove must not leave a search reading the old positions.
    x = clustered(3_000, 16)
    ids = np.arange(3_000, dtype=np.int64)
    index = VectorIndex(16, factory, nprobe=16)
    index.build(ids, x)
    allowed = IdSet(ids[::2])
    q = x[:40]  # each query is an item's own vector: found first when it is allowed
    first = index.search(q, 5, allowed)[1]
    assert np.array_equal(first[::2, 0], ids[:40:2])
    assert index.search(q, 5, allowed)[1].tolist() == first.tolist()  # the kept mask answers alike
    index.remove(ids[:40:2])
    after_remove = index.search(q, 5, allowed)[1]
    assert not np.isin(after_remove, ids[:40:2]).any() and allowed.contains(after_remove[after_remove >= 0]).all()
    index.add(ids[:40:2], x[:40:2])  # back at new positions
    assert np.array_equal(index.search(q, 5, allowed)[1][::2, 0], ids[:40:2])
    copied = index.copy()
    copied.remove(ids[:2])
    assert index.search(q[:1], 1, allowed)[1][0, 0] == 0 and copied.search(q[:1], 1, allowed)[1][0, 0] != 0
