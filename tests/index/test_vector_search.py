"""VectorIndex search: Flat is exact, HNSW/IVF recall well against it, filters hold on every family."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.index import faiss_factory as ff
from recsys.index.vector import SCAN_BATCH, VectorIndex
from tests.index.data import brute_force, clustered, queries_near, recall

N, DIM, K = 5000, 32, 10
FACTORIES = ["Flat", "HNSW32", "IVF64,Flat"]


@pytest.fixture(scope="module")
def data():
    x = clustered(N, DIM)
    ids = np.arange(N, dtype=np.int64) * 7 + 3  # ids unrelated to positions
    return ids, x, queries_near(x, 50)


@pytest.fixture(scope="module")
def indexes(data):
    ids, x, _ = data
    built = {}
    for factory in FACTORIES:
        index = VectorIndex(DIM, factory)
        index.build(ids, x)
        built[factory] = index
    return built


def test_flat_equals_brute_force(data, indexes):
    ids, x, q = data
    scores, found = indexes["Flat"].search(q, K)
    want_scores, want_ids = brute_force(x, ids, q, K)
    assert found.dtype == np.int64 and scores.dtype == np.float32 and found.shape == (len(q), K)
    np.testing.assert_array_equal(found, want_ids)
    np.testing.assert_allclose(scores, want_scores, atol=1e-5)


def test_a_serving_size_batch_on_flat_is_scanned_by_one_product_with_the_same_answers(data):
    """A few queries (``SCAN_BATCH``) skip FAISS's own scan: the answers, filters and deletes must not change."""
    ids, x, q = data
    index = VectorIndex(DIM, "Flat")
    index.build(ids, x)
    index.remove(ids[:40])  # tombstones: never returned
    live = ids[40:]
    allowed = live[::3]
    for rows in (q[:1], q[:SCAN_BATCH]):
        for allowed_ids, pool in ((None, live), (allowed, allowed)):
            scores, found = index.search(rows, K, allowed_ids)
            want_scores, want_ids = brute_force(x[np.isin(ids, pool)], pool, rows, K)
            np.testing.assert_array_equal(found, want_ids)
            np.testing.assert_allclose(scores, want_scores, atol=1e-5)
    scores, found = index.search(q[:1], K, ids[:5])  # every allowed id deleted: nothing, padded
    assert (found == -1).all() and np.isneginf(scores).all()


@pytest.mark.parametrize("factory", ["HNSW32", "IVF64,Flat"])
def test_approximate_recall_against_flat(data, indexes, factory):
    _, _, q = data
    _, exact = indexes["Flat"].search(q, K)
    _, approx = indexes[factory].search(q, K)
    assert indexes[factory].effective_factory == factory
    assert recall(approx, exact) >= 0.9


@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize("exact_below", [0, 10_000])  # 0 forces the FAISS selector path, else exact fallback
def test_allowed_ids_restrict_results(data, indexes, factory, exact_below):
    ids, x, q = data
    index = indexes[factory]
    index.exact_below = exact_below
    rng = np.random.default_rng(5)
    allowed = rng.choice(ids, 1500, replace=False)
    _, found = index.search(q, K, allowed_ids=allowed)
    index.exact_below = 2048
    assert (found >= 0).all() and np.isin(found, allowed).all()
    keep = np.isin(ids, allowed)
    _, truth = brute_force(x[keep], ids[keep], q, K)
    assert recall(found, truth) >= (1.0 if factory == "Flat" else 0.9)


@pytest.mark.parametrize("factory", FACTORIES)
def test_selective_filter_pads_only_when_allowed_set_is_smaller_than_k(indexes, data, factory):
    ids, _, q = data
    scores, found = indexes[factory].search(q[:3], K, allowed_ids=np.array([ids[10], ids[20], 999_999_999]))
    assert set(found[:, :2].ravel()) == {ids[10], ids[20]}
    assert (found[:, 2:] == -1).all() and np.isneginf(scores[:, 2:]).all()


def test_ivf_probes_enough_lists_that_a_filtered_wide_search_fills_without_the_exact_scan(data, monkeypatch):
    # 8 of 64 lists hold ~625 vectors, ~190 of them allowed: a filtered k=200 (a re-scored first stage's hits)
    # would come back short and fall to scanning every allowed vector. Probing by the filter's share fills it.
    ids, x, q = data
    index = VectorIndex(DIM, "IVF64,Flat", nprobe=8)
    index.build(ids, x)
    index.exact_below = 0  # only the short-result fallback may scan exactly
    scanned = []
    real = VectorIndex._exact
    monkeypatch.setattr(VectorIndex, "_exact", lambda self, *a: scanned.append(1) or real(self, *a))
    allowed = np.random.default_rng(6).choice(ids, 1500, replace=False)
    _, found = index.search(q[:10], 200, allowed_ids=allowed)
    assert not scanned
    assert (found >= 0).all() and np.isin(found, allowed).all()
    _, top = index.search(q[:10], K)  # unfiltered small k: the 8 lists asked for are enough
    assert not scanned and (top >= 0).all()


def test_ivf_with_too_few_vectors_falls_back_to_flat(data, caplog):
    ids, x, q = data
    index = VectorIndex(DIM, "IVF1024,Flat")
    index.build(ids[:500], x[:500])
    assert index.effective_factory == "Flat"
    assert "using Flat" in caplog.text
    _, found = index.search(q, K)
    np.testing.assert_array_equal(found, brute_force(x[:500], ids[:500], q, K)[1])


def test_rejects_bad_input():
    index = VectorIndex(4)
    with pytest.raises(ValueError):
        index.build(np.array([1, 1]), np.ones((2, 4)))
    with pytest.raises(ValueError):
        index.build(np.array([1, 2]), np.ones((2, 5)))
    with pytest.raises(ValueError):
        index.build(np.array([-1]), np.ones((1, 4)))
    with pytest.raises(ValueError):
        VectorIndex(4, "IDMap,Flat")


@pytest.mark.parametrize(("nlist", "probed"), [(16, 8), (64, 8), (1024, 16), (4096, 32), (16384, 64)])
def test_an_ivf_index_probes_half_sqrt_nlist_lists_and_more_for_a_filter(nlist, probed):
    index = ff.make_index(8, f"IVF{nlist},Flat")
    index.ntotal = 100 * nlist  # what the rule reads; no vectors are needed to read the parameters
    assert ff.default_nprobe(index) == min(nlist, probed)
    assert ff.search_params(index, 10, None, probed, 64, 1.0).nprobe == min(nlist, probed)
    # a re-scored k of 800 under a filter allowing a tenth of the items needs 2k allowed vectors in the probed lists
    # (10 nlist of them: 160 lists at any nlist), capped by nlist
    assert ff.search_params(index, 800, None, probed, 64, 0.1).nprobe == min(nlist, 160)
