"""A state whose vector index scores compressed codes is re-scored from its route matrices: the answer is the exact
cosine ranking of the coarse hits, which is the exact top k whenever the coarse hits hold it."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.encoders.fusion import FusionWeights
from recsys.encoders.routes import FUSED, IMAGE, REVIEWS_BERT, TEXT_BERT, TEXT_CLIP
from recsys.index.arrays import IdSet
from recsys.index.segmented_vectors import SegmentedVectorIndex
from recsys.index.vector import VectorIndex
from recsys.search import dense
from recsys.search.dense import dense_search
from recsys.search.route_matrices import RouteMatrices
from recsys.search.state import ServingState, serving_state
from recsys.search.table import ItemTable
from recsys.search.updates import lexical_index


def table_of(ids: np.ndarray) -> ItemTable:
    n = ids.size
    zeros = np.zeros(n, np.float32)
    words = np.array(["x"] * n, dtype=object)
    return ItemTable(
        ids=ids,
        titles=[f"item {i}" for i in ids.tolist()],
        descriptions=[""] * n,
        categories=["A > B"] * n,
        leaf=words,
        gender=words.copy(),
        colour=words.copy(),
        price=zeros.copy(),
        age_days=zeros.copy(),
        rating_sum=zeros.copy(),
        rating_count=zeros.copy(),
        impressions=zeros.copy(),
        clicks=zeros.copy(),
        has_image=np.zeros(n, bool),
    )


def state_with(
    factory: str, n: int, seed: int = 0, clusters: int = 40, noise: float = 0.6, nprobe: int | None = None
) -> ServingState:
    """``n`` items whose routes lie around ``clusters`` centres (as real embeddings cluster), ids spaced apart."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n, dtype=np.int64) * 3 + 7
    centres = rng.normal(size=(clusters, 80)).astype(np.float32)
    points = centres[rng.integers(0, clusters, n)] + noise * rng.normal(size=(n, 80)).astype(np.float32)
    stored = {IMAGE: points[:, :32], TEXT_CLIP: points[:, 32:64], TEXT_BERT: points[:, 64:], REVIEWS_BERT: 0 * points}
    routes = RouteMatrices(stored, FusionWeights())
    vectors = VectorIndex(routes.dim(FUSED), factory, nprobe=nprobe)
    vectors.build(ids, routes[FUSED])
    table = table_of(ids)
    return serving_state("v", vectors, lexical_index(table, segmented=False), table, routes)


def exact_top(state: ServingState, queries: np.ndarray, k: int, allowed: np.ndarray | None = None):
    flat = VectorIndex(state.vectors.dim, "Flat")
    flat.build(state.table.ids, state.routes[FUSED])
    return flat.search(queries, k, allowed)


def queries_near(state: ServingState, count: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(state.table), count)
    noise = 0.3 * rng.normal(size=(count, state.vectors.dim)).astype(np.float32)
    return state.routes.rows(FUSED, rows) + noise


def test_when_the_coarse_hits_hold_every_item_the_answer_is_the_exact_one():
    state = state_with("HNSW8,SQ4", n=60)  # four bits a dimension: its own order is often wrong
    assert state.vectors.lossy
    queries = queries_near(state, 8)
    allowed = state.table.ids[::2]
    for k, subset in ((15, None), (10, allowed)):  # 4 x 15 = 60 coarse hits: all items; 40 of the 30 allowed
        scores, ids = dense_search(state, queries, k, subset)
        want_scores, want_ids = exact_top(state, queries, k, subset)
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_allclose(scores, want_scores, atol=1e-5)
    own_scores, _ = state.vectors.search(queries, 15)
    assert not np.allclose(own_scores, exact_top(state, queries, 15)[0], atol=1e-3)  # what the re-scoring fixed


def test_an_exact_index_is_searched_as_it_is():
    state = state_with("Flat", n=50)
    assert not state.vectors.lossy
    queries = queries_near(state, 3)
    for got, want in zip(dense_search(state, queries, 5), state.vectors.search(queries, 5)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("factory", ["IVF16,PQ16", "IVF16,SQ4"])  # 16 bytes / 24 bytes an item for 48 dimensions
def test_re_scoring_lifts_a_compressed_index_to_the_exact_top_ten(factory):
    state = state_with(factory, n=12_000, clusters=400, noise=0.3, nprobe=16)  # every list probed: codes alone
    queries = queries_near(state, 60)
    _, want = exact_top(state, queries, 10)
    _, raw = state.vectors.search(queries, 10)
    _, refined = dense_search(state, queries, 10)

    def recall(found):
        return np.mean([np.intersect1d(f, w).size / 10 for f, w in zip(found, want)])

    assert recall(refined) >= 0.95 and recall(refined) > recall(raw) + 0.1, (recall(raw), recall(refined))


def test_a_segmented_index_is_lossy_by_its_base_and_filters_and_pads_as_a_plain_one(monkeypatch):
    state = state_with("HNSW8,SQ4", n=60)
    segmented = SegmentedVectorIndex([state.vectors])
    assert segmented.lossy and not SegmentedVectorIndex([VectorIndex(segmented.dim, "Flat")]).lossy
    state = serving_state("v", segmented, state.lexical, state.table, state.routes)
    monkeypatch.setattr(dense, "REFINE_FACTOR", 2)
    monkeypatch.setattr(dense, "REFINE_MIN_HITS", 0)
    allowed = IdSet(state.table.ids[:3])
    scores, ids = dense_search(state, queries_near(state, 2), 5, allowed)
    assert set(ids[:, :3].ravel()) <= set(state.table.ids[:3].tolist()) and (ids[:, 3:] == -1).all()
    assert np.isneginf(scores[:, 3:]).all()


@pytest.mark.parametrize(
    ("factory", "lossy"),
    [("Flat", False), ("IVF4,Flat", False), ("HNSW8", False), ("HNSW8,SQ8", True), ("IVF4,SQ8", True),
     ("IVF4,PQ4", True), ("IVF4,SQ8,RFlat", False), ("IVF4,PQ4,Refine(SQ8)", True)],
)  # fmt: skip
def test_which_factories_score_compressed_codes(factory, lossy):
    assert VectorIndex(8, factory).lossy is lossy


def test_rescore_ranks_each_rows_hits_by_exact_dot_product_from_one_gather():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[[4, 9]] + 0.1
    # Overlapping hit lists, one padded: each row keeps only its own hits, ranked exactly.
    coarse = np.array([[4, 7, 9, 30, -1], [9, 4, 12, 30, 41]], np.int64)
    gathered: list[np.ndarray] = []

    def vectors_of(ids: np.ndarray) -> np.ndarray:
        gathered.append(ids)
        return vectors[ids]

    scores, found = dense.rescore(queries, coarse, vectors_of, 3)
    assert len(gathered) == 1 and gathered[0].tolist() == [4, 7, 9, 12, 30, 41]
    for n, row in enumerate(coarse):
        hits = row[row >= 0]
        exact = vectors[hits] @ queries[n]
        assert found[n].tolist() == hits[np.argsort(-exact)][:3].tolist()
        np.testing.assert_allclose(scores[n], np.sort(exact)[::-1][:3], rtol=1e-6)
    empty_scores, empty_ids = dense.rescore(queries, np.full((2, 4), -1, np.int64), vectors_of, 3)
    assert (empty_ids == -1).all() and np.isneginf(empty_scores).all()


def test_a_lossy_index_is_asked_for_a_floor_of_hits_however_few_are_wanted(monkeypatch):
    state = state_with("HNSW8,SQ4", n=60)
    asked: list[int] = []
    search = state.vectors.search

    def spy(queries, k, allowed=None):
        asked.append(k)
        return search(queries, k, allowed)

    monkeypatch.setattr(state.vectors, "search", spy)
    dense_search(state, queries_near(state, 1), 10)
    dense_search(state, queries_near(state, 1), 100)
    assert asked == [dense.REFINE_MIN_HITS, 100 * dense.REFINE_FACTOR]


def test_half_rows_widen_bitwise_as_numpy_widens_them():
    # The re-scoring reads route rows through torch's half-float conversion: exactly numpy's, subnormal and infinite
    # halves included (a NaN stays NaN; torch quiets a signalling one), for gathered rows, a read-only matrix's
    # slices and non-half input.
    from recsys.search.route_matrices import widened

    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**16, size=(300, 64), dtype=np.uint16)  # every kind of half, subnormals included
    half = bits.view(np.float16)
    frozen = half.copy()
    frozen.flags.writeable = False
    for got_from in (half[rng.choice(300, 50)], frozen[10:60], half[:, ::2], half.astype(np.float32)):
        got, want = widened(got_from), got_from.astype(np.float32)
        assert got.dtype == np.float32 and got.shape == want.shape
        nan = np.isnan(want)
        assert (np.isnan(got) == nan).all()
        assert got[~nan].view(np.uint32).tolist() == want[~nan].view(np.uint32).tolist()
