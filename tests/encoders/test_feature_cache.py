"""The tower-feature cache: computes only what is missing, survives reopening, keys by content."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from recsys.encoders.feature_cache import FeatureCache, image_key, text_key


def test_only_missing_keys_are_computed_once_and_persist(tmp_path):
    calls: list[list[int]] = []

    def compute(indices: list[int]) -> np.ndarray:
        calls.append(indices)
        return np.array([[float(i), 1.0] for i in indices], np.float32)

    cache = FeatureCache(tmp_path, "tower-a")
    keys = ["k0", "k1", "k0", "k2"]
    rows = cache.get_or_compute(keys, compute, dim=2, chunk=2)
    np.testing.assert_array_equal(rows[:, 0], [0, 1, 0, 3])  # the duplicate k0 reuses row 0
    assert calls == [[0, 1], [3]]

    reopened = FeatureCache(tmp_path, "tower-a")
    assert len(reopened) == 3
    again = reopened.get_or_compute(["k2", "k1"], lambda idx: (_ for _ in ()).throw(AssertionError), dim=2)
    np.testing.assert_array_equal(again[:, 0], [3, 1])
    assert len(FeatureCache(tmp_path, "tower-b")) == 0  # another tower has its own features
    assert FeatureCache(tmp_path, "tower-b").get_or_compute([], compute, dim=2).shape == (0, 2)


def test_keys_are_content_hashes():
    red = Image.new("RGB", (6, 8), (255, 0, 0))
    buf = io.BytesIO()
    red.save(buf, format="PNG")
    assert image_key(red) == image_key(Image.new("RGB", (6, 8), (255, 0, 0)))
    assert image_key(red) != image_key(Image.new("RGB", (8, 6), (255, 0, 0)))
    assert image_key(buf.getvalue()) == image_key(buf.getvalue()) != image_key(red)
    assert text_key("red shirt") != text_key("red shirts")
