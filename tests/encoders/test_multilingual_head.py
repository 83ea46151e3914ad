"""The multilingual head: shapes, a stored head reloads to the same outputs, and Chinese reaches a type's items.

The last test uses the real packaged USE weights: the head is fitted on ENGLISH titles only, against a tiny joint
space where each article type's items sit around their own direction; a Chinese query for a type must then land
nearer that type's items than any other type's, which holds only if USE aligns the two languages and the head
carries that alignment into the joint space.
"""

from __future__ import annotations

import numpy as np
import pytest

from recsys.config import Settings
from recsys.encoders.multilingual import USE_MULTILINGUAL, MultilingualTextEncoder
from recsys.encoders.multilingual_head import MultilingualHead, MultilingualHeadConfig
from recsys.encoders.multilingual_head_store import head_dir, load_head, read_head, save_head, write_head
from recsys.training.multilingual_head_fit import fit_multilingual_head

TITLES = {
    "Dresses": ["Women Red Dress", "Women Blue Floral Dress", "Black Party Dress", "Girls Pink Dress",
                "Women Green Maxi Dress", "White Summer Dress"],
    "Sports Shoes": ["Men Black Sports Shoes", "Nike Men White Running Shoes", "Women Grey Sports Shoes",
                     "Adidas Blue Training Shoes", "Men Red Running Shoes", "Puma Navy Sports Shoes"],
    "Watches": ["Men Silver Watch", "Titan Women Gold Watch", "Fastrack Black Analog Watch", "Casio Digital Watch",
                "Women Rose Gold Watch", "Men Brown Leather Strap Watch"],
    "Backpacks": ["Black Laptop Backpack", "Wildcraft Blue Backpack", "Unisex Red School Backpack",
                  "Grey Travel Backpack", "Green Hiking Backpack", "Navy Canvas Backpack"],
}  # fmt: skip
CHINESE = {"Dresses": "红色连衣裙", "Sports Shoes": "男士运动鞋", "Watches": "女士手表", "Backpacks": "双肩背包"}


def _config(in_dim: int = 512, embed_dim: int = 16, **kw) -> MultilingualHeadConfig:
    return MultilingualHeadConfig(USE_MULTILINGUAL, "towerclip-test", in_dim, embed_dim, **kw)


def test_head_maps_shapes_to_unit_rows_and_refuses_wrong_widths() -> None:
    head = MultilingualHead(_config(hidden=32))
    out = head.project(np.random.default_rng(0).standard_normal((5, 512)).astype(np.float32))
    assert out.shape == (5, 16) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match=r"\[n, 512\]"):
        head.project(np.zeros((2, 384), np.float32))
    with pytest.raises(ValueError, match="aligned"):
        fit_multilingual_head(np.zeros((4, 512)), np.zeros((3, 16)), _config())
    with pytest.raises(ValueError, match="config says"):
        fit_multilingual_head(np.zeros((4, 512)), np.zeros((4, 8)), _config())


def test_saved_head_reloads_to_the_same_outputs(tmp_path) -> None:
    rng = np.random.default_rng(1)
    text, image = rng.standard_normal((40, 512)), rng.standard_normal((40, 16))
    head, losses = fit_multilingual_head(text, image, _config(hidden=32, epochs=3, batch_size=16))
    assert len(losses) == 3 and all(np.isfinite(losses))
    probe = rng.standard_normal((3, 512)).astype(np.float32)
    again = read_head(write_head(tmp_path / "h", head, {"note": 1}))
    assert again.config == head.config
    np.testing.assert_allclose(again.project(probe), head.project(probe), atol=1e-6)

    settings = Settings(data_dir=tmp_path / "data")
    assert load_head(settings, "towerclip-test", USE_MULTILINGUAL) is None  # none fitted: the caller keeps MiniLM
    folder = save_head(settings, head)
    assert folder == head_dir(settings, "towerclip-test", USE_MULTILINGUAL) and folder.is_relative_to(
        settings.models_dir
    )
    loaded = load_head(settings, "towerclip-test", USE_MULTILINGUAL)
    assert loaded is not None
    np.testing.assert_allclose(loaded.project(probe), head.project(probe), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="no multilingual head"):
        read_head(tmp_path / "missing")


@pytest.fixture(scope="module")
def use() -> MultilingualTextEncoder:
    return MultilingualTextEncoder(USE_MULTILINGUAL)


def test_chinese_query_lands_nearest_its_types_items(use: MultilingualTextEncoder) -> None:
    rng = np.random.default_rng(0)
    types = list(TITLES)
    centres = rng.standard_normal((len(types), 16))
    titles = [t for name in types for t in TITLES[name]]
    owner = np.array([types.index(name) for name in types for _ in TITLES[name]])
    image = centres[owner] + 0.3 * rng.standard_normal((len(titles), 16))  # items of a type cluster in the space
    image /= np.linalg.norm(image, axis=1, keepdims=True)
    head, _ = fit_multilingual_head(use.encode_items(titles), image, _config(hidden=0, epochs=60, batch_size=64))
    for name, query in CHINESE.items():
        sims = head.project(use.encode_queries([query]))[0] @ image.T
        per_type = [sims[owner == i].mean() for i in range(len(types))]
        assert int(np.argmax(per_type)) == types.index(name), (query, dict(zip(types, np.round(per_type, 3))))
