"""Fusion of ranked lists, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.index.hybrid import reciprocal_rank_fusion, weighted_score_fusion

VEC = (np.array([1, 2, 3, -1]), np.array([0.9, 0.8, 0.7, -np.inf], dtype=np.float32))
LEX = (np.array([3, 4, 1]), np.array([5.0, 2.0, 1.0], dtype=np.float32))


def test_rrf_hand_computed():
    ids, fused = reciprocal_rank_fusion([VEC, LEX], k=60)
    # 1: 1/61 + 1/63 ; 3: 1/63 + 1/61 ; 2: 1/62 ; 4: 1/62  -> ties broken by smaller id
    assert ids.tolist() == [1, 3, 2, 4]
    np.testing.assert_allclose(fused, [1 / 61 + 1 / 63, 1 / 61 + 1 / 63, 1 / 62, 1 / 62], rtol=1e-6)


def test_rrf_weights_and_unsorted_input():
    shuffled = (LEX[0][::-1], LEX[1][::-1])  # rank comes from scores, not position
    ids, fused = reciprocal_rank_fusion([VEC, shuffled], k=0, weights=[1.0, 2.0])
    # 1: 1/1 + 2/3 ; 2: 1/2 ; 3: 1/3 + 2/1 ; 4: 2/2
    assert ids.tolist() == [3, 1, 4, 2]
    np.testing.assert_allclose(fused, [7 / 3, 5 / 3, 1.0, 0.5], rtol=1e-6)


def test_weighted_score_fusion_min_max():
    ids, fused = weighted_score_fusion([VEC, LEX], weights=[1.0, 0.5])
    # VEC scaled: 1->1, 2->0.5, 3->0 ; LEX scaled: 3->1, 4->0.25, 1->0
    assert ids.tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(fused, [1.0, 0.5, 0.5, 0.125], rtol=1e-6)


def test_edge_cases():
    ids, fused = reciprocal_rank_fusion([(np.array([-1]), np.array([0.0]))])
    assert ids.size == 0 and fused.size == 0
    ids, fused = weighted_score_fusion([(np.array([7, 8]), np.array([2.0, 2.0]))])
    assert ids.tolist() == [7, 8] and fused.tolist() == [1.0, 1.0]
    ids, _ = reciprocal_rank_fusion([(np.array([5, 5, 6]), np.array([1.0, 3.0, 2.0]))])
    assert ids.tolist() == [5, 6]  # a repeated id counts once, at its best rank
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([VEC], weights=[1.0, 2.0])
