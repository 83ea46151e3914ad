"""Head training on a tiny colour catalog: holdout exclusion, saved versions, round trip, and retrieval."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recsys import registry
from recsys.config import Settings
from recsys.encoders import create_encoder
from recsys.encoders.checkpoint import read_heads, write_heads
from recsys.encoders.content import clip_text
from recsys.encoders.feature_cache import FeatureCache, image_key
from recsys.encoders.image_tower import ImageTower
from recsys.encoders.tower_clip import ClipHeads, TowerClipConfig
from recsys.splits import is_holdout
from recsys.training.heads import HeadTrainingConfig, train_heads
from recsys.training.pairs import TrainingPair
from tests.encoders.models import COLOURS, garment_image

FAST = HeadTrainingConfig(epochs=80, batch_size=32, lr=5e-3, hidden=0, embed_dim=64)


def _catalog(holdout: bool) -> list[tuple[str, str, tuple[int, int, int]]]:
    """(id, title, colour) for every colour, with ids chosen on the requested side of the holdout split."""
    ids = (f"sku-{n}" for n in range(10_000))
    picked = []
    for name, rgb in COLOURS.items():
        external_id = next(i for i in ids if is_holdout(i) == holdout)
        # Held-out items get inverted colours so their photos (and cache keys) differ from the trained ones.
        colour = tuple(255 - c for c in rgb) if holdout else rgb
        picked.append((external_id, f"{name.capitalize()} cotton t-shirt", colour))
    return picked


def _pairs(catalog) -> list[TrainingPair]:
    return [TrainingPair(i, clip_text(title, "Tshirts"), garment_image(rgb)) for i, title, rgb in catalog]


@pytest.fixture(scope="module")
def tower() -> ImageTower:
    return ImageTower(image_size=128)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, minilm, tower):
    settings = Settings.from_env({"data_dir": tmp_path_factory.mktemp("data")}, environ={})
    train, held = _catalog(False), _catalog(True)[:5]
    version = train_heads(_pairs(train) + _pairs(held), settings, config=FAST, text=minilm, tower=tower)
    return settings, version, train, held


def test_training_never_sees_holdout_items(trained, tower):
    settings, version, train, held = trained
    manifest = registry.read_config(registry.version_dir(settings, version))
    assert manifest["metrics"]["train_pairs"] == len(train)
    cache = FeatureCache(settings.data_dir / "features", tower.id)
    assert all(image_key(garment_image(rgb)) in cache for _, _, rgb in train)
    assert not any(image_key(garment_image(rgb)) in cache for _, _, rgb in held)


def test_exclude_drops_more_items_and_empty_training_is_refused(settings, minilm, tower):
    train = _catalog(False)[:4]
    with pytest.raises(ValueError):
        train_heads(_pairs(train), settings, exclude=lambda i: True, config=FAST, text=minilm, tower=tower)
    version = train_heads(
        _pairs(train),
        settings,
        exclude=lambda i: i == train[0][0],
        config=HeadTrainingConfig(epochs=1, hidden=0, embed_dim=16),
        text=minilm,
        tower=tower,
    )
    assert registry.read_config(registry.version_dir(settings, version))["metrics"]["train_pairs"] == 3


def test_version_is_saved_with_its_config_and_activated(trained):
    settings, version, _, _ = trained
    manifest = registry.read_config(registry.version_dir(settings, version))
    assert registry.active_version(settings) == version
    assert manifest["model"]["image_tower"] == "efficientnet_lite0" and manifest["model"]["embed_dim"] == 64
    assert manifest["model"]["image_size"] == settings.image_size
    assert len(manifest["data_fingerprint"]) == 64 and manifest["created"].endswith("Z")
    assert manifest["metrics"]["text_to_image_recall@10"] > 0.9


def test_head_checkpoint_round_trip_gives_identical_vectors(tmp_path):
    config = TowerClipConfig(image_dim=8, text_dim=4, embed_dim=3, hidden=5)
    heads = ClipHeads(config).eval()
    heads.visual.fit_standardisation(torch.randn(16, 8) * 5 + 2)  # the saved feature statistics must come back too
    write_heads(tmp_path, heads)
    loaded = read_heads(tmp_path, config)
    feats = torch.randn(2, 8)
    assert torch.equal(heads.project_image(feats), loaded.project_image(feats))


def test_encoder_loads_the_active_version_and_finds_each_item_by_its_title(trained, minilm):
    settings, version, train, _ = trained
    encoder = create_encoder(settings, text=minilm)
    assert encoder.trained and encoder.version.startswith(version)
    images = encoder.encode_images([garment_image(rgb) for _, _, rgb in train])
    queries = encoder.encode_texts([clip_text(title, "Tshirts") for _, title, _ in train])
    ranks = (queries @ images.T >= np.diag(queries @ images.T)[:, None]).sum(axis=1)
    assert (ranks <= 10).all()  # 30 items: chance of top 10 is 1/3 per item
    assert (ranks == 1).mean() > 0.5
    again = create_encoder(settings, text=minilm)  # loading the saved version twice gives identical vectors
    np.testing.assert_array_equal(again.encode_images([garment_image(rgb) for _, _, rgb in train]), images)


def test_rollback_to_an_older_version_changes_the_encoder(trained, minilm, tower):
    settings, version, train, _ = trained
    newer = train_heads(
        _pairs(train[:6]),
        settings,
        config=HeadTrainingConfig(epochs=1, hidden=0, embed_dim=64),
        text=minilm,
        tower=tower,
    )
    assert registry.active_version(settings) == newer
    registry.activate(settings, version)
    assert create_encoder(settings, text=minilm).version.startswith(version)


def test_item_log_q_is_the_log_share_of_each_item_in_the_pair_stream():
    from recsys.training.pairs import item_log_q

    pairs = [TrainingPair(i, "t", b"") for i in ("a", "a", "a", "b")]
    assert torch.allclose(item_log_q(pairs), torch.log(torch.tensor([0.75, 0.75, 0.75, 0.25])))
