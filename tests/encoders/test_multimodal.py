"""The service-facing encoder on the offline towers (untrained heads): shapes, norms, routes, queries."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recsys.config import Settings
from recsys.encoders import (
    FUSED,
    IMAGE,
    REVIEWS_BERT,
    TEXT_BERT,
    TEXT_CLIP,
    ItemContent,
    MultimodalEncoder,
    create_encoder,
)
from recsys.encoders.text import TextEncoder
from tests.encoders.models import COLOURS, garment_image


@pytest.fixture(scope="module")
def encoder(tmp_path_factory, minilm) -> MultimodalEncoder:
    settings = Settings.from_env({"data_dir": tmp_path_factory.mktemp("data")}, environ={})
    return create_encoder(settings, text=minilm)


def _unit(rows: np.ndarray) -> bool:
    return rows.dtype == np.float32 and np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)


def _items() -> list[ItemContent]:
    red, blue = garment_image(COLOURS["red"]), garment_image(COLOURS["blue"])
    return [
        ItemContent("a", "Red cotton shirt", "Soft shirt", "Shirts", {"colour": "Red"}, ["Fits well"], [red]),
        ItemContent("b", "Blue jeans", "", "Jeans", {"colour": "Blue", "gender": "Men"}, [], [blue, red]),
        ItemContent("c", "Leather wallet", "Brown leather", "Wallets", {}, [], []),  # no image, no reviews
    ]


def test_untrained_encoder_is_flagged_and_has_a_stable_version(encoder, tmp_path, minilm):
    assert encoder.trained is False
    again = create_encoder(Settings.from_env({"data_dir": tmp_path}, environ={}), text=minilm)
    assert again.version == encoder.version
    texts = ["red shirt", "blue jeans"]
    np.testing.assert_array_equal(again.encode_texts(texts), encoder.encode_texts(texts))


def test_texts_and_images_are_unit_rows_in_one_space(encoder):
    texts = encoder.encode_texts(["red shirt", "blue jeans", ""])
    images = encoder.encode_images([garment_image(c) for c in list(COLOURS.values())[:5]])
    assert texts.shape == (3, encoder.joint.dim) and images.shape == (5, encoder.joint.dim)
    assert _unit(texts) and _unit(images)
    assert encoder.encode_texts([]).shape == (0, encoder.joint.dim)


def test_encode_items_gives_every_route_and_zero_rows_for_missing_content(encoder):
    routes = encoder.encode_items(_items())
    assert set(routes) == {IMAGE, TEXT_CLIP, TEXT_BERT, REVIEWS_BERT, FUSED}
    for name, rows in routes.items():
        assert rows.shape == (3, encoder.dims[name])
    assert _unit(routes[TEXT_CLIP]) and _unit(routes[TEXT_BERT]) and _unit(routes[FUSED])
    assert _unit(routes[IMAGE][:2]) and not routes[IMAGE][2].any()  # item c has no image
    assert _unit(routes[REVIEWS_BERT][:1]) and not routes[REVIEWS_BERT][1:].any()


def test_item_image_route_is_the_mean_of_its_images(encoder):
    item = _items()[1]
    singles = encoder.encode_images(item.images)
    mean = singles.mean(axis=0)
    np.testing.assert_allclose(encoder.encode_items([item])[IMAGE][0], mean / np.linalg.norm(mean), atol=1e-5)


@pytest.mark.parametrize(
    "text,with_image,expected",
    [
        ("red shirt", False, {TEXT_CLIP, TEXT_BERT, FUSED}),
        (None, True, {IMAGE, FUSED}),
        ("red shirt", True, {TEXT_CLIP, TEXT_BERT, IMAGE, FUSED}),
    ],
)
def test_queries_have_the_routes_of_their_inputs_and_the_item_fused_dim(encoder, text, with_image, expected):
    image = garment_image(COLOURS["red"]) if with_image else None
    query = encoder.encode_query(text, image)
    assert set(query) == expected
    assert all(rows.shape == (1, encoder.dims[name]) and _unit(rows) for name, rows in query.items())


def test_query_needs_some_input(encoder):
    with pytest.raises(ValueError):
        encoder.encode_query("  ", None)


def test_bulk_features_give_the_same_vectors_and_fill_the_caches(encoder, tmp_path):
    items = _items()
    for n, item in enumerate(items):  # as item_contents gives them: one content hash per image
        item.image_keys = [f"{n}-{k}" for k in range(len(item.images))]
    plain = encoder.encode_items(items)
    features = encoder.bulk_features(tmp_path / "features")
    first = encoder.encode_items(items, features)
    for route, rows in plain.items():
        np.testing.assert_allclose(first[route], rows, atol=2e-5, err_msg=route)
    assert len(features.images) == 3 and len(features._texts[encoder.text.model_name]) > 0
    # A new cache object reads them back from disk (the next switch): same vectors, no tower work.
    again = encoder.bulk_features(tmp_path / "features")
    again.image_tower = None  # would raise if an image had to be computed
    second = encoder.encode_items(items, again)
    for route, rows in plain.items():
        np.testing.assert_allclose(second[route], rows, atol=2e-5, err_msg=route)


def test_a_text_query_runs_minilm_once_and_gets_the_joint_vector_the_text_tower_gives(encoder, monkeypatch):
    expected = encoder.joint.encode_texts(["navy linen shirt"])
    calls = []
    real_encode = TextEncoder.encode

    def counted(self, texts):
        calls.append(len(texts))
        return real_encode(self, texts)

    # On the class: patching the shared (session) MiniLM object would leave an instance attribute behind.
    monkeypatch.setattr(TextEncoder, "encode", counted)
    monkeypatch.setattr(encoder.text, "query_dtype", torch.float32)  # the item side's precision: the same vector
    routes = encoder.encode_query("navy linen shirt")
    assert calls == [1]  # one MiniLM pass for the BERT route and the joint route's text tower
    np.testing.assert_allclose(routes["text_clip"], expected, atol=1e-6)
    monkeypatch.setattr(encoder.text, "query_dtype", torch.bfloat16)  # RECSYS_QUERY_PRECISION=auto on such CPUs
    assert float(encoder.encode_query("navy linen shirt")["text_clip"][0] @ expected[0]) > 0.999
