"""Tower fine-tuning on a tiny generated catalog (CPU): what is trained, what is saved, and exact reloading."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from recsys import registry
from recsys.config import Settings
from recsys.encoders import create_encoder, routes
from recsys.encoders.checkpoint import TOWERS_FILE, WEIGHTS_FILE
from recsys.encoders.content import ItemContent, clip_text
from recsys.encoders.image_tower import ImageTower, tunable_prefixes
from recsys.encoders.text import text_layer_prefixes
from recsys.encoders.tower_clip import ClipHeads, TowerClip, TowerClipConfig
from recsys.encoders.tower_path import default_config, untrained_version_name
from recsys.splits import is_holdout
from recsys.training.heads import (
    HeadTrainingConfig,
    TrainingCancelled,
    TrainingPair,
    train_heads,
)
from recsys.training.tower_finetune import (
    TowerTrainer,
    TowerTrainingConfig,
    _batch,
    train_towers,
)
from tests.encoders.models import COLOURS, garment_image

TINY = TowerTrainingConfig(
    epochs=1,
    batch_size=8,
    unfreeze_image_blocks=1,
    unfreeze_text_layers=1,
    hidden=0,
    embed_dim=32,
    head_lr=5e-3,
    tower_lr=1e-3,
)


def _catalog(n_train: int = 14, n_held: int = 2) -> list[tuple[str, str, tuple[int, int, int]]]:
    """(id, title, colour): ``n_train`` trainable items and ``n_held`` held-out ones, each its own colour."""
    ids = (f"sku-{n}" for n in range(10_000))
    colours = list(COLOURS.items())
    train = [next(i for i in ids if not is_holdout(i)) for _ in range(n_train)]
    held = [next(i for i in ids if is_holdout(i)) for _ in range(n_held)]
    return [(i, f"{name.capitalize()} cotton t-shirt", rgb) for i, (name, rgb) in zip(train + held, colours)]


def _pairs(catalog) -> list[TrainingPair]:
    return [TrainingPair(i, clip_text(title, "Tshirts"), garment_image(rgb)) for i, title, rgb in catalog]


def _settings(path) -> Settings:
    return Settings.from_env({"data_dir": path, "device": "cpu", "database_url": "", "demo_limit": 0}, environ={})


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, minilm):
    """One 1-epoch run (1 image block, 1 text layer); keeps the trained model that ``on_trained`` saw."""
    torch.set_num_threads(1)
    settings = _settings(tmp_path_factory.mktemp("tuned") / "data")
    catalog = _catalog()
    shared_before = _state(minilm.model)
    seen = {}
    epochs = []
    version = train_towers(
        _pairs(catalog),
        settings,
        TINY,
        text=minilm,
        on_trained=lambda m: seen.update(model=m),
        on_epoch=lambda *a: epochs.append(a),
        manifest_extra={"run": {"parent": None}},
    )
    return {
        "settings": settings,
        "version": version,
        "catalog": catalog,
        "model": seen["model"],
        "shared_before": shared_before,
        "epochs": epochs,
    }


def test_run_saves_a_version_with_its_tuned_towers(tuned):
    settings, version = tuned["settings"], tuned["version"]
    folder = registry.version_dir(settings, version)
    manifest = registry.read_config(folder)
    assert (folder / WEIGHTS_FILE).exists() and (folder / TOWERS_FILE).exists()
    assert manifest["kind"] == "tower_clip" and manifest["run"] == {"parent": None}
    assert manifest["model"]["image_tuned_blocks"] == 1 and manifest["model"]["text_tuned_layers"] == 1
    assert manifest["metrics"]["train_pairs"] == 14  # the 2 held-out items are never trained on
    assert manifest["training"]["trainer"] == "towers" and manifest["metrics"]["device"] == "cpu"
    assert len(tuned["epochs"]) == 1 and tuned["epochs"][0][0] == 1 and tuned["epochs"][0][2] > 0
    assert registry.active_version(settings) is None  # saved, not served


def test_only_the_unfrozen_blocks_and_layers_changed(tuned, minilm):
    model = tuned["model"]
    base_image = _state(ImageTower(image_size=128).net)
    tuned_image = _state(model.image_tower.net)
    prefixes = tunable_prefixes(model.image_tower.net, 1)
    assert prefixes == ("_blocks.15.", "_conv_head.", "_bn1.")
    params = {n for n, _ in model.image_tower.net.named_parameters()}
    for name, value in tuned_image.items():
        trained = name in params and name.startswith(prefixes)
        if not trained:  # frozen weights and every BatchNorm statistic, tuned blocks' included
            assert torch.equal(value, base_image[name]), name
    changed = [n for n in params if n.startswith(prefixes) and not torch.equal(tuned_image[n], base_image[n])]
    assert "_conv_head.weight" in changed and "_blocks.15._project_conv.weight" in changed

    text_prefixes = text_layer_prefixes(minilm.model, 1)
    assert text_prefixes == ("encoder.layer.5.",)
    tuned_text, base_text = _state(model.text_encoder.model), tuned["shared_before"]
    for name, value in tuned_text.items():
        if not name.startswith(text_prefixes):
            assert torch.equal(value, base_text[name]), name
    assert not torch.equal(
        tuned_text["encoder.layer.5.output.dense.weight"], base_text["encoder.layer.5.output.dense.weight"]
    )
    # The MiniLM passed in (shared with the text_bert route) was copied, never trained.
    after = _state(minilm.model)
    assert all(torch.equal(after[k], v) for k, v in base_text.items())
    assert minilm.tuned_digest is None and "@tuned-" not in minilm.model_name
    assert not any(p.requires_grad for p in minilm.model.parameters())


def test_loading_the_version_gives_the_trained_models_vectors(tuned, minilm):
    settings, version, catalog, model = tuned["settings"], tuned["version"], tuned["catalog"], tuned["model"]
    encoder = create_encoder(settings, text=minilm, version=version)
    assert encoder.trained and encoder.version.startswith(version)
    items = [ItemContent(i, title, category="Tshirts", images=[garment_image(rgb)]) for i, title, rgb in catalog]
    got = encoder.encode_items(items)
    with torch.no_grad():
        pixels = torch.stack([model.preprocess(garment_image(rgb)) for _, _, rgb in catalog])
        want_image = torch.nn.functional.normalize(model.encode_image(pixels), dim=-1).numpy()
        tokens = model.tokenizer([clip_text(title, "Tshirts") for _, title, _ in catalog])
        want_text = torch.nn.functional.normalize(model.encode_text(tokens), dim=-1).numpy()
    np.testing.assert_allclose(got[routes.IMAGE], want_image, rtol=0, atol=1e-5)
    np.testing.assert_allclose(got[routes.TEXT_CLIP], want_text, rtol=0, atol=1e-5)
    query = encoder.encode_query(text=catalog[0][1])
    with torch.no_grad():
        want_query = torch.nn.functional.normalize(model.encode_text(model.tokenizer([catalog[0][1]])), dim=-1)
    np.testing.assert_allclose(query[routes.TEXT_CLIP], want_query.numpy(), rtol=0, atol=1e-5)
    again = create_encoder(settings, text=minilm, version=version)  # loading twice: identical vectors
    np.testing.assert_array_equal(again.encode_items(items)[routes.IMAGE], got[routes.IMAGE])


def test_text_bert_route_keeps_the_untouched_minilm(tuned, minilm):
    encoder = create_encoder(tuned["settings"], text=minilm, version=tuned["version"])
    joint_text = encoder.joint.model.text_encoder
    assert encoder.text is minilm and joint_text is not minilm and joint_text.model is not minilm.model
    assert joint_text.model_name.startswith(minilm.model_name + "@tuned-")
    assert (
        joint_text.model_name
        == registry.read_config(registry.version_dir(tuned["settings"], tuned["version"]))["text_tower_id"]
    )
    query = encoder.encode_query(text="red cotton t-shirt")
    np.testing.assert_allclose(query[routes.TEXT_BERT], minilm.encode(["red cotton t-shirt"]), rtol=0, atol=1e-6)


def test_tuned_tower_has_its_own_feature_cache_id(tuned, minilm):
    encoder = create_encoder(tuned["settings"], text=minilm, version=tuned["version"])
    frozen_id = ImageTower(image_size=128).id
    tuned_id = encoder.joint.model.image_tower.id
    manifest = registry.read_config(registry.version_dir(tuned["settings"], tuned["version"]))
    assert tuned_id != frozen_id and tuned_id.startswith(frozen_id + "-tuned-")
    assert tuned_id == manifest["image_tower_id"] == tuned["model"].image_tower.id


def test_cancel_raises_and_saves_nothing(tmp_path, minilm):
    settings = _settings(tmp_path / "data")
    asked = []

    def stop() -> bool:  # let one step run, then cancel
        asked.append(1)
        return len(asked) > 1

    with pytest.raises(TrainingCancelled):
        train_towers(_pairs(_catalog()), settings, TINY, text=minilm, should_stop=stop)
    assert len(asked) == 2
    assert registry.list_versions(settings) == []
    assert not settings.models_dir.exists() or not list(settings.models_dir.iterdir())


def test_parent_heads_and_tuned_towers_are_the_starting_point(tmp_path, minilm):
    settings = _settings(tmp_path / "data")
    pairs = _pairs(_catalog(6, 0))
    heads_only = train_heads(
        pairs, settings, config=HeadTrainingConfig(epochs=1, hidden=0, embed_dim=16), activate=False, text=minilm
    )
    still = TowerTrainingConfig(epochs=0, unfreeze_image_blocks=1, unfreeze_text_layers=0)  # no steps: a copy
    child = train_towers(pairs, settings, still, parent=heads_only, text=minilm)
    parent_heads = torch.load(registry.version_dir(settings, heads_only) / WEIGHTS_FILE, weights_only=True)
    child_heads = torch.load(registry.version_dir(settings, child) / WEIGHTS_FILE, weights_only=True)
    assert all(torch.equal(parent_heads[k], child_heads[k]) for k in parent_heads)
    manifest = registry.read_config(registry.version_dir(settings, child))
    assert manifest["model"]["embed_dim"] == 16 and manifest["training"]["init_from"] == heads_only
    assert manifest["model"]["image_tuned_blocks"] == 1 and manifest["model"]["text_tuned_layers"] == 0
    # A child of a tuned parent keeps the parent's tuned blocks even when it unfreezes none itself.
    grandchild = train_towers(
        pairs,
        settings,
        TowerTrainingConfig(epochs=0, unfreeze_image_blocks=0, unfreeze_text_layers=0),
        parent=child,
        text=minilm,
    )
    config = registry.read_config(registry.version_dir(settings, grandchild))
    assert config["model"]["image_tuned_blocks"] == 1
    assert config["image_tower_id"] == manifest["image_tower_id"]


def test_heads_only_versions_and_untrained_encoders_load_as_before(settings, minilm):
    version = train_heads(
        _pairs(_catalog(4, 0)), settings, config=HeadTrainingConfig(epochs=1, hidden=0, embed_dim=16), text=minilm
    )
    assert not (registry.version_dir(settings, version) / TOWERS_FILE).exists()
    encoder = create_encoder(settings, text=minilm, version=version)
    assert encoder.joint.model.text_encoder is minilm
    assert encoder.joint.model.image_tower.id == ImageTower(image_size=settings.image_size).id
    assert "tuned" not in encoder.joint.model.image_tower.id
    # The untrained encoder's name hashes the config fields that existed before tuning did: unchanged key.
    config = default_config(settings, minilm.dim)
    old_fields = {k: v for k, v in config.to_dict().items() if k not in ("image_tuned_blocks", "text_tuned_layers")}
    assert set(old_fields) == {
        "image_tower",
        "image_size",
        "flip",
        "text_model",
        "image_dim",
        "text_dim",
        "embed_dim",
        "hidden",
        "init_temperature",
    }
    digest = hashlib.sha256(json.dumps(old_fields, sort_keys=True).encode()).hexdigest()[:10]
    assert untrained_version_name(config) == f"towers-untrained-{digest}"


def test_a_mixed_precision_step_trains_only_the_unfrozen_layers(minilm):
    """The autocast path CUDA uses (bf16 here, on the CPU): float32 loss, finite, frozen weights untouched."""
    pairs = _pairs(_catalog(4, 0))
    tower = ImageTower(image_size=64)
    config = TowerClipConfig(
        image_size=64, image_dim=tower.dim, hidden=0, embed_dim=16, image_tuned_blocks=1, text_tuned_layers=1
    )
    model = TowerClip(config, minilm.tuned_copy(), ClipHeads(config), image_tower=tower)
    trainer = TowerTrainer(
        model,
        TowerTrainingConfig(unfreeze_image_blocks=1, unfreeze_text_layers=1, tower_lr=1e-3),
        total_steps=1,
        device=torch.device("cpu"),
    )
    trainer.amp_dtype = torch.bfloat16
    before = _state(tower.net)
    loss = trainer.step(*_batch(pairs, range(4), tower, model.text_encoder))
    assert np.isfinite(loss)
    after = _state(tower.net)
    assert not torch.equal(after["_conv_head.weight"], before["_conv_head.weight"])
    assert torch.equal(after["_blocks.14._project_conv.weight"], before["_blocks.14._project_conv.weight"])
    assert all(torch.equal(after[k], before[k]) for k in before if "running_" in k)
    assert all(p.dtype == torch.float32 for p in trainer.params)  # master weights stay float32


def test_early_stopping_keeps_the_best_validation_epoch(tmp_path, minilm, monkeypatch):
    from recsys.training import tower_finetune

    settings = _settings(tmp_path / "data")
    heads_seen, recalls = [], iter([0.5, 0.4, 0.3, 0.9])  # epoch 1 best, epoch 2 worse: stop; then final metrics
    real_encode = tower_finetune._encode

    def encode(model, *args, **kwargs):
        heads_seen.append({k: v.clone() for k, v in model.heads.state_dict().items()})
        return real_encode(model, *args, **kwargs)

    monkeypatch.setattr(tower_finetune, "_encode", encode)
    monkeypatch.setattr(tower_finetune, "paired_recall_mrr", lambda *a, **k: (next(recalls), 0.1))
    config = TowerTrainingConfig(
        epochs=3,
        batch_size=4,
        unfreeze_image_blocks=1,
        unfreeze_text_layers=0,
        hidden=0,
        embed_dim=16,
        patience=1,
        val_fraction=0.5,
        min_val_pairs=2,
        learn_temperature=False,
    )
    version = train_towers(_pairs(_catalog(8, 0)), settings, config, text=minilm)
    folder = registry.version_dir(settings, version)
    metrics = registry.read_config(folder)["metrics"]
    assert metrics["metrics_on"] == "validation" and metrics["epoch_val_recall@10"] == [0.5, 0.4]
    assert metrics["best_epoch"] == 1 and metrics["stopped_early"] and len(metrics["epoch_losses"]) == 2
    saved = torch.load(folder / WEIGHTS_FILE, weights_only=True)
    assert all(torch.equal(saved[k], heads_seen[0][k]) for k in saved)  # epoch 1's heads, not epoch 2's
    assert not all(torch.equal(saved[k], heads_seen[1][k]) for k in saved)
    assert float(saved["logit_scale"]) == pytest.approx(float(np.log(1 / 0.07)), abs=1e-6)  # temperature fixed
