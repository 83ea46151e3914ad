"""The offline joint space: packaged towers + the heads of the active model version (or untrained heads)."""
from __future__ import annotations

import hashlib
import json

import torch

from recsys.config import Settings
from recsys.encoders.checkpoint import read_heads
from recsys.encoders.image_tower import tower_feature_dim
from recsys.encoders.joint import ClipJoint
from recsys.encoders.text import TextEncoder
from recsys.encoders.tower_clip import TowerClip, TowerClipConfig, seeded_heads
from recsys.training import registry

MODEL_KIND = "tower_clip"


def default_config(settings: Settings, text_dim: int) -> TowerClipConfig:
    return TowerClipConfig(image_tower=settings.image_tower, image_size=settings.image_size,
                           text_model=settings.text_model, image_dim=tower_feature_dim(settings.image_tower),
                           text_dim=text_dim)


def read_tower_manifest(settings: Settings, version: str) -> dict:
    """The config of a saved tower_clip version; KeyError when absent, ValueError when another kind."""
    folder = registry.version_dir(settings, version)
    if not (folder / registry.CONFIG_FILE).exists():
        raise KeyError(f"no model version {version!r} in {settings.models_dir}")
    manifest = registry.read_config(folder)
    if manifest.get("kind") != MODEL_KIND:
        raise ValueError(f"model {version} is {manifest.get('kind')!r}, not an encoder ({MODEL_KIND})")
    return manifest


def load_tower_joint(settings: Settings, text: TextEncoder, device: torch.device,
                     version: str | None = None) -> ClipJoint:
    """Heads of ``version`` (default: the ACTIVE one), or untrained seeded heads when none is active."""
    version = version or registry.active_version(settings)
    if version is not None:
        folder = registry.version_dir(settings, version)
        config = TowerClipConfig.from_dict(read_tower_manifest(settings, version)["model"])
        heads, trained = read_heads(folder, config), True
    else:
        config = default_config(settings, text.dim)
        digest = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:10]
        heads, trained, version = seeded_heads(config), False, f"towers-untrained-{digest}"
    if config.text_model != text.model_name:  # the version was trained on another text tower
        text = TextEncoder(config.text_model, str(device), settings.encode_batch_size)
    model = TowerClip(config, text, heads, device=device)
    return ClipJoint(model, model.preprocess, model.tokenizer, version=version, trained=trained, device=device,
                     batch_size=settings.encode_batch_size)
