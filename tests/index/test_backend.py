"""One test module for every index engine behind ``IndexBackend``: embedded FAISS + bm25s, and Qdrant local mode."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from recsys.config import Settings
from recsys.index.backend import BACKENDS, IndexBackend, PayloadFilter
from recsys.index.engines import make_backend
from recsys.index.faiss_backend import FaissBackend
from recsys.index.qdrant_backend import QdrantBackend

DIM = 16
TITLES = [
    "red cotton shirt",
    "blue denim jeans",
    "red silk dress",
    "green wool sweater",
    "black leather boots",
    "blue cotton shirt",
    "white linen shirt",
    "yellow rain jacket",
]
CATEGORIES = ["tops", "bottoms", "dresses", "tops", "shoes", "tops", "tops", "outerwear"]
PRICES = [20.0, 45.0, 80.0, 60.0, 120.0, 22.0, float("nan"), 70.0]


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


IDS = np.arange(10, 10 + len(TITLES), dtype=np.int64)
VECTORS = _vectors(len(TITLES))
PAYLOADS = [{"category": c, "price": p} for c, p in zip(CATEGORIES, PRICES)]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Iterator[IndexBackend]:
    settings = Settings.from_env({"index_backend": request.param, "data_dir": tmp_path}, environ={})
    engine = make_backend(settings, DIM)
    engine.add(IDS, VECTORS, TITLES, PAYLOADS)
    yield engine
    engine.close()


def test_dense_search_finds_each_item_by_its_own_vector_with_cosine_scores(backend):
    assert len(backend) == len(TITLES)
    for row, item_id in enumerate(IDS):
        scores, ids = backend.search(VECTORS[row], 3)
        assert ids[0] == item_id
        assert scores[0] == pytest.approx(1.0, abs=1e-4)
        assert scores[1] == pytest.approx(float(VECTORS[row] @ VECTORS[IDS.tolist().index(ids[1])]), abs=1e-4)


def test_results_are_padded_when_fewer_items_than_k(backend):
    scores, ids = backend.search(VECTORS[0], 12)
    assert ids.shape == (12,) and (ids[len(TITLES) :] == -1).all()
    assert sorted(ids[: len(TITLES)].tolist()) == IDS.tolist()


def test_delete_removes_items_and_ignores_unknown_ids(backend):
    assert backend.delete(np.array([10, 999])) == 1
    assert len(backend) == len(TITLES) - 1
    _, ids = backend.search(VECTORS[0], 12)
    assert 10 not in ids.tolist()
    _, lex = backend.lexical("red", 5)
    assert lex[lex >= 0].tolist() == [12]


def test_adding_an_existing_id_replaces_its_vector_text_and_payload(backend):
    backend.add(np.array([10]), VECTORS[4:5], ["purple velvet hat"], [{"category": "hats", "price": 5.0}])
    assert len(backend) == len(TITLES)
    _, ids = backend.search(VECTORS[4], 2)
    assert set(ids.tolist()) == {10, 14}
    _, lex = backend.lexical("velvet", 5)
    assert lex[0] == 10
    _, red = backend.lexical("red", 5)
    assert red[red >= 0].tolist() == [12]
    _, hats = backend.search(VECTORS[0], 5, PayloadFilter(match={"category": ["hats"]}))
    assert hats[hats >= 0].tolist() == [10]


def test_payload_filters_match_values_and_price_ranges(backend):
    tops = PayloadFilter(match={"category": ["tops"]})
    _, ids = backend.search(VECTORS[1], 8, tops)
    assert sorted(ids[ids >= 0].tolist()) == [10, 13, 15, 16]
    cheap_tops = PayloadFilter(match={"category": ["tops", "shoes"]}, ranges={"price": (None, 50.0)})
    _, ids = backend.search(VECTORS[1], 8, cheap_tops)
    assert sorted(ids[ids >= 0].tolist()) == [10, 15]  # 16 has no price: a range never matches it
    _, ids = backend.lexical("shirt", 8, PayloadFilter(ranges={"price": (21.0, 100.0)}))
    assert ids[ids >= 0].tolist() == [15]


def test_lexical_search_returns_only_items_sharing_a_word_best_first(backend):
    scores, ids = backend.lexical("cotton shirt", 8)
    found = ids[ids >= 0].tolist()
    assert set(found) == {10, 15, 16}
    assert set(found[:2]) == {10, 15}  # both words beat one word
    assert scores[0] > scores[2] > 0
    _, none = backend.lexical("umbrella", 5)
    assert (none == -1).all()


def test_hybrid_fuses_dense_and_lexical_lists_under_the_filter(backend):
    # The vector is the red cotton shirt's, the words match the shirts and the red dress: the item matching both
    # lists ranks first, and items found by one list only come back too.
    ids, fused = backend.hybrid(VECTORS[0], "red shirt", 8)
    assert ids[0] == 10 and fused[0] >= fused[1]
    assert {10, 12, 15, 16} <= set(ids.tolist())
    ids, _ = backend.hybrid(VECTORS[0], "red shirt", 8, PayloadFilter(match={"category": ["dresses"]}))
    assert ids.tolist() == [12]


def test_bad_input_raises_a_clear_error_and_changes_nothing(backend):
    with pytest.raises(ValueError, match="shape"):
        backend.add(np.array([50, 51]), VECTORS[:1], ["a", "b"], [{}, {}])
    with pytest.raises(ValueError, match="non-negative"):
        backend.add(np.array([-3]), VECTORS[:1], ["a"], [{}])
    with pytest.raises(ValueError, match="texts"):
        backend.add(np.array([50]), VECTORS[:1], [], [{}])
    with pytest.raises(ValueError, match="NaN"):
        backend.add(np.array([50]), np.full((1, DIM), np.nan), ["a"], [{}])
    with pytest.raises(ValueError, match="low"):
        PayloadFilter(ranges={"price": (10.0, 1.0)})
    assert len(backend) == len(TITLES)


def test_an_unknown_backend_name_is_refused():
    with pytest.raises(ValueError, match="RECSYS_INDEX_BACKEND"):
        make_backend(Settings(index_backend="elastic"), DIM)


def test_a_qdrant_folder_keeps_the_collection_across_clients(tmp_path):
    first = QdrantBackend(DIM, str(tmp_path / "qdrant"))
    first.add(IDS, VECTORS, TITLES, PAYLOADS)
    first.close()
    again = QdrantBackend(DIM, str(tmp_path / "qdrant"))
    assert len(again) == len(TITLES)
    _, ids = again.lexical("linen", 3)
    assert ids[0] == 16
    again.close()
    with pytest.raises(ValueError, match="16-d"):
        QdrantBackend(8, str(tmp_path / "qdrant"))


def test_both_engines_give_the_same_bm25_cosine_and_fused_scores_on_the_same_items():
    embedded, qdrant = FaissBackend(DIM), QdrantBackend(DIM)
    for engine in (embedded, qdrant):
        engine.add(IDS, VECTORS, TITLES, PAYLOADS)
    for text in ("red shirt", "blue cotton", "boots"):
        (a_scores, a_ids), (b_scores, b_ids) = embedded.lexical(text, 8), qdrant.lexical(text, 8)
        assert dict(zip(a_ids.tolist(), a_scores.round(4).tolist())) == dict(
            zip(b_ids.tolist(), b_scores.round(4).tolist())
        )
    # A text without BM25 ties (engines may order equal scores differently, which shifts the fused scores).
    text = "silk dress boots"
    (a_ids, a_fused), (b_ids, b_fused) = embedded.hybrid(VECTORS[0], text, 8), qdrant.hybrid(VECTORS[0], text, 8)
    assert a_ids.tolist() == b_ids.tolist()
    np.testing.assert_allclose(a_fused, b_fused, rtol=1e-5)
    a_scores, a_ids = embedded.search(VECTORS[3], 8)
    b_scores, b_ids = qdrant.search(VECTORS[3], 8)
    assert a_ids.tolist() == b_ids.tolist()
    np.testing.assert_allclose(a_scores, b_scores, atol=1e-5)
    qdrant.close()
