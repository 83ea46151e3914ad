"""Fusion arithmetic and per-route similarities on hand-made vectors."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.encoders.fusion import FusionWeights, fuse, mean_of_present, normalize_rows
from recsys.encoders.routes import FUSED, IMAGE, TEXT_BERT, TEXT_CLIP, route_similarities


def _unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_fused_dot_is_the_weighted_sum_of_joint_and_text_similarities():
    weights = FusionWeights(joint=0.7, text=0.3)
    q_joint, q_text = _unit([[1, 0, 0]]), _unit([[0, 1]])
    i_joint, i_text = _unit([[0.6, 0.8, 0]]), _unit([[1, 1]])
    fused_dot = float((fuse(q_joint, q_text, weights) @ fuse(i_joint, i_text, weights).T)[0, 0])
    expected = 0.7 * 0.6 + 0.3 * float(np.sqrt(0.5))  # joint cos 0.6, text cos 1/sqrt(2)
    assert fused_dot == pytest.approx(expected, abs=1e-6)


def test_image_only_query_ranks_by_the_joint_similarity_alone():
    weights = FusionWeights()
    query = fuse(_unit([[1, 0]]), np.zeros((1, 2), np.float32), weights)
    assert np.linalg.norm(query) == pytest.approx(1.0)
    items = fuse(_unit([[1, 0], [0.8, 0.6], [0, 1]]), _unit([[0, 1], [1, 0], [1, 0]]), weights)
    assert list(np.argsort(-(items @ query[0]))) == [0, 1, 2]


def test_zero_rows_stay_zero_and_mean_skips_missing_parts():
    assert not normalize_rows(np.zeros((1, 3), np.float32)).any()
    image = np.array([[0, 0], [1, 0]], np.float32)  # first item has no image
    text = _unit([[0, 1], [0, 1]])
    mean = mean_of_present(image, text)
    np.testing.assert_allclose(mean[0], [0, 1], atol=1e-6)
    np.testing.assert_allclose(mean[1], _unit([1, 1]), atol=1e-6)


def test_route_similarities_pairs_query_and_item_routes():
    query = {TEXT_CLIP: _unit([[1, 0]]), TEXT_BERT: _unit([[0, 1, 0]]), FUSED: _unit([[1, 1]])}
    items = {
        IMAGE: np.array([[1, 0], [0, 0]], np.float32),
        TEXT_CLIP: _unit([[0, 1], [1, 0]]),
        TEXT_BERT: _unit([[0, 1, 0], [1, 0, 0]]),
        FUSED: _unit([[1, 1], [1, -1]]),
    }
    sims = route_similarities(query, items)
    assert set(sims) == {"text_image", "text_text_clip", "text_bert", "fused"}  # no image in the query
    np.testing.assert_allclose(sims["text_image"], [1, 0])  # item 2 has no image: similarity 0
    np.testing.assert_allclose(sims["text_text_clip"], [0, 1])
    np.testing.assert_allclose(sims["text_bert"], [1, 0])
    np.testing.assert_allclose(sims["fused"], [1, 0], atol=1e-6)
