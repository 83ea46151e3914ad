"""Segmented vector index: a base by factory string plus exact deltas with tombstones gives a full rebuild's top-k
(exact base), with and without an allowed-id filter; a merge keeps the results and the base's factory."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.index.segmented_vectors import SegmentedVectorIndex
from recsys.index.vector import VectorIndex
from tests.index.data import queries_near
from tests.index.segment_fixture import EditedCatalog


@pytest.fixture(scope="module")
def catalog():
    return EditedCatalog()


def edited(catalog: EditedCatalog, factory: str = "Flat") -> SegmentedVectorIndex:
    base = VectorIndex(catalog.dim, factory)
    base.build(catalog.ids, catalog.vectors)
    index = SegmentedVectorIndex([base])
    for add, _, vectors, deleted in catalog.edits:
        index = index.edited(add, vectors, deleted)
    return index


def rebuilt(catalog: EditedCatalog) -> VectorIndex:
    ids, _, vectors = catalog.final()
    full = VectorIndex(catalog.dim, "Flat")
    full.build(ids, vectors)
    return full


def test_edits_as_segments_search_as_a_full_rebuild(catalog):
    index, full = edited(catalog), rebuilt(catalog)
    assert len(index.segments) == 1 + len(catalog.edits) and len(index) == len(full)
    assert np.array_equal(index.ids(), full.ids())
    queries = queries_near(catalog.vectors, 30)
    for allowed in (None, full.ids()[::4]):
        got_scores, got = index.search(queries, 20, allowed)
        want_scores, want = full.search(queries, 20, allowed)
        assert np.array_equal(got, want)
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)
    some = full.ids()[-30:]
    np.testing.assert_allclose(index.vectors(some), full.vectors(some), atol=1e-6)


def test_tombstoned_ids_never_come_back_even_when_k_exceeds_the_catalog(catalog):
    index = edited(catalog)
    deleted = np.concatenate([d for *_, d in catalog.edits])
    deleted = deleted[~np.isin(deleted, np.concatenate([a for a, *_ in catalog.edits]))]
    _, found = index.search(queries_near(catalog.vectors, 3), len(catalog.ids) + 100)
    assert not np.isin(found, deleted).any()
    assert np.count_nonzero(found[0] >= 0) == len(index)
    with pytest.raises(KeyError):
        index.vectors(deleted[:1])


@pytest.mark.parametrize("factory", ["Flat", "IVF16,SQ8"])
def test_merge_keeps_results_and_the_base_factory(catalog, factory):
    index = edited(catalog, factory)
    merged = index.merged()
    assert len(merged.segments) == 1 and merged.delta_items() == 0
    assert merged.base.effective_factory == index.base.effective_factory  # folded into the trained base
    assert np.array_equal(merged.ids(), index.ids())
    queries = queries_near(catalog.vectors, 20)
    if factory == "Flat":
        assert np.array_equal(merged.search(queries, 10)[1], index.search(queries, 10)[1])
    else:  # SQ8 codes of the folded delta vectors are lossy: the same items nearly always
        same = np.mean(
            [len(set(a) & set(b)) / 10 for a, b in zip(merged.search(queries, 10)[1], index.search(queries, 10)[1])]
        )
        assert same >= 0.9
