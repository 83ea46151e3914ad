"""The serving piece: which queries take the multilingual route, and the joint vector it returns."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.config import Settings
from recsys.encoders.multilingual import E5_SMALL, USE_MULTILINGUAL, MultilingualTextEncoder
from recsys.encoders.multilingual_head import MultilingualHead, MultilingualHeadConfig
from recsys.encoders.multilingual_head_store import save_head
from recsys.encoders.multilingual_query import MultilingualQueryRoute, is_non_english, load_route


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("红色连衣裙", True),
        ("500元以下的手表", True),
        ("nike 运动鞋", True),
        ("красное платье", True),
        ("navy blue casual shirt", False),
        ("Café crème tshrt 2", False),
        ("", False),
    ],
)
def test_non_english_detection(text: str, expected: bool) -> None:
    assert is_non_english(text) is expected


def test_route_returns_a_joint_row_for_chinese_and_none_for_english(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, multilingual_text_model=USE_MULTILINGUAL)
    assert load_route(settings, "towerclip-x") is None  # no head fitted for this version
    save_head(settings, MultilingualHead(MultilingualHeadConfig(USE_MULTILINGUAL, "towerclip-x", 512, 8, hidden=0)))
    route = load_route(settings, "towerclip-x")
    assert route is not None and route.joint_version == "towerclip-x"
    row = route.joint_vector("红色连衣裙")
    assert row is not None and row.shape == (1, 8)
    np.testing.assert_allclose(np.linalg.norm(row), 1.0, atol=1e-5)
    assert route.joint_vector("red dress") is None
    assert route.encode("red dress").shape == (1, 8)


def test_route_refuses_a_head_of_another_model() -> None:
    head = MultilingualHead(MultilingualHeadConfig(E5_SMALL, "towerclip-x", 384, 8, hidden=0))
    with pytest.raises(ValueError, match="fitted on"):
        MultilingualQueryRoute(MultilingualTextEncoder(USE_MULTILINGUAL), head)
