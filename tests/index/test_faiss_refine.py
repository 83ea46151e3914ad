"""Compressed factories with a refine step (``...,RFlat``, ``...,Refine(SQfp16)``): filters hold, refine pays."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.index.vector import VectorIndex


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(100, 32))
    x = (centres[rng.integers(0, 100, 12000)] + 0.5 * rng.normal(size=(12000, 32))).astype(np.float32)
    return x, x[:40] + 0.1 * rng.normal(size=(40, 32)).astype(np.float32)


def _recall(index: VectorIndex, exact: VectorIndex, q: np.ndarray, allowed: np.ndarray | None) -> float:
    _, found = index.search(q, 10, allowed)
    _, truth = exact.search(q, 10, allowed)
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]))


@pytest.mark.parametrize("factory", ["IVF64,PQ8,RFlat", "IVF64,SQ8,Refine(SQfp16)"])
def test_refined_factory_searches_with_filters_and_edits(factory):
    x, q = _data()
    ids = np.arange(x.shape[0])
    exact, index = VectorIndex(32, "Flat"), VectorIndex(32, factory)
    exact.build(ids, x)
    index.build(ids, x)
    assert index.effective_factory == factory
    allowed = ids[::3]
    _, found = index.search(q, 10, allowed)
    assert set(found.ravel()) <= set(allowed.tolist())
    assert _recall(index, exact, q, allowed) >= 0.9
    index.remove(ids[:3000])  # compaction re-adds into a trained copy of the refined index
    _, found = index.search(q, 10)
    assert (found >= 3000).all()


def test_refine_beats_the_same_codes_without_it():
    x, q = _data()
    ids = np.arange(x.shape[0])
    exact, plain, refined = VectorIndex(32, "Flat"), VectorIndex(32, "IVF64,PQ8"), VectorIndex(32, "IVF64,PQ8,RFlat")
    for index in (exact, plain, refined):
        index.build(ids, x)
    assert _recall(refined, exact, q, None) > _recall(plain, exact, q, None) + 0.1
