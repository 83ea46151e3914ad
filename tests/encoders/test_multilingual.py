"""The packaged multilingual encoders: a Chinese query ranks the matching English title first, and back."""

import numpy as np
import pytest

from recsys.encoders.multilingual import MULTILINGUAL_MODELS, MultilingualTextEncoder

TITLES_EN = ["Women Red Dress", "Men Black Sports Shoes", "Silver Ring"]
TITLES_ZH = ["女士红色连衣裙", "男士黑色运动鞋", "银戒指"]


@pytest.fixture(scope="module", params=MULTILINGUAL_MODELS)
def encoder(request: pytest.FixtureRequest) -> MultilingualTextEncoder:
    return MultilingualTextEncoder(request.param)


def test_chinese_query_reaches_english_titles(encoder: MultilingualTextEncoder) -> None:
    items = encoder.encode_items(TITLES_EN)
    queries = encoder.encode_queries(["红色连衣裙", "男士黑色运动鞋"])
    assert items.shape == (3, encoder.dim) and items.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(items, axis=1), 1.0, atol=1e-5)
    assert (queries @ items.T).argmax(axis=1).tolist() == [0, 1]


def test_english_query_reaches_chinese_titles(encoder: MultilingualTextEncoder) -> None:
    items = encoder.encode_items(TITLES_ZH)
    queries = encoder.encode_queries(["red dress", "black sports shoes for men"])
    assert (queries @ items.T).argmax(axis=1).tolist() == [0, 1]


def test_unknown_model_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown multilingual"):
        MultilingualTextEncoder("bert-base-uncased")
