"""The offline joint space: packaged towers + the heads of the active model version (or untrained heads).

A tower fine-tuned version also replaces the last blocks/layers of the towers (``towers.pt``): its image tower
is built with those weights, and its MiniLM is a separate tuned copy used only by the joint (CLIP) route; the
shared MiniLM of the text_bert route is never touched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

import torch

from recsys import registry
from recsys.config import Settings
from recsys.encoders.checkpoint import read_heads, read_towers
from recsys.encoders.image_tower import ImageTower, tower_feature_dim
from recsys.encoders.joint import ClipJoint
from recsys.encoders.text import TextEncoder
from recsys.encoders.tower_clip import (
    ClipHeads,
    TowerClip,
    TowerClipConfig,
    seeded_heads,
)

MODEL_KIND = "tower_clip"
_TUNING_FIELDS = ("image_tuned_blocks", "text_tuned_layers")


def default_config(settings: Settings, text_dim: int) -> TowerClipConfig:
    return TowerClipConfig(
        image_tower=settings.image_tower,
        image_size=settings.image_size,
        text_model=settings.text_model,
        image_dim=tower_feature_dim(settings.image_tower),
        text_dim=text_dim,
    )


def config_for_tower(
    defaults: TowerClipConfig, tower: ImageTower, *, hidden: int, embed_dim: int, temperature: float
) -> TowerClipConfig:
    """A version's config: the tower fields from the tower that made the features (so the saved config rebuilds
    it), the head shape and initial temperature from the training run."""
    return replace(
        defaults,
        image_tower=tower.name,
        image_size=tower.size[0],
        flip=tower.flip,
        image_dim=tower.dim,
        hidden=hidden,
        embed_dim=embed_dim,
        init_temperature=temperature,
    )


def read_tower_manifest(settings: Settings, version: str) -> dict:
    """The config of a saved tower_clip version; KeyError when absent, ValueError when another kind."""
    folder = registry.version_dir(settings, version)
    if not (folder / registry.CONFIG_FILE).exists():
        raise KeyError(f"no model version {version!r} in {settings.models_dir}")
    manifest = registry.read_config(folder)
    if manifest.get("kind") != MODEL_KIND:
        raise ValueError(f"model {version} is {manifest.get('kind')!r}, not an encoder ({MODEL_KIND})")
    return manifest


@dataclass
class VersionTowers:
    """Everything a saved tower_clip version is made of, rebuilt: config, towers (tuned where it says) and heads."""

    config: TowerClipConfig
    text: TextEncoder  # the joint route's MiniLM: ``shared`` itself when untuned, else a tuned copy
    tower: ImageTower
    heads: ClipHeads


def load_version_towers(
    settings: Settings, version: str, device: torch.device | str, shared: TextEncoder | None = None
) -> VersionTowers:
    """Rebuild ``version``'s towers and heads. ``shared`` (an untuned MiniLM) is reused, or copied when tuned.

    Use this (not ``ImageTower(config...)``) wherever a version is evaluated, or tuned towers are silently lost.
    """
    folder = registry.version_dir(settings, version)
    config = TowerClipConfig.from_dict(read_tower_manifest(settings, version)["model"])
    heads = read_heads(folder, config)
    image_state, text_state = read_towers(folder, config)
    base = shared
    if base is None or base.model_name != config.text_model:  # none given, tuned, or another text tower
        base = TextEncoder(config.text_model, str(device), settings.encode_batch_size)
    text = base
    if config.text_tuned_layers > 0:
        text = base.tuned_copy(text_state) if base is shared else base
        if base is not shared:
            text.load_tuned(text_state)
        text.device = torch.device(device)  # the copy lives where this version runs, wherever ``shared`` is
        text.model.to(text.device)
        _check_tuned(version, "text", set(text_state), set(text.tuned_parameters(config.text_tuned_layers)))
    tower = ImageTower(
        config.image_tower,
        config.image_size,
        config.flip,
        device=device,
        batch_size=settings.encode_batch_size,
        tuned_state=image_state or None,
    )
    if config.image_tuned_blocks > 0:
        _check_tuned(version, "image", set(image_state), set(tower.tuned_parameters(config.image_tuned_blocks)))
    return VersionTowers(config, text, tower, heads)


def _check_tuned(version: str, which: str, saved: set[str], expected: set[str]) -> None:
    if saved != expected:
        raise ValueError(
            f"{version}: towers.pt {which} parameters do not match the tuned blocks in config.json "
            f"(missing {sorted(expected - saved)[:3]}, extra {sorted(saved - expected)[:3]})"
        )


def untrained_version_name(config: TowerClipConfig) -> str:
    """Key of the seeded-heads encoder; the tuning fields (always 0 here) are left out so the name is unchanged."""
    data = {k: v for k, v in config.to_dict().items() if k not in _TUNING_FIELDS}
    return f"towers-untrained-{hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]}"


def load_tower_joint(
    settings: Settings, text: TextEncoder, device: torch.device, version: str | None = None
) -> ClipJoint:
    """Heads (and tuned towers, if any) of ``version`` (default: the ACTIVE one), or untrained seeded heads when
    none is active. ``text`` is the shared MiniLM; a tuned version's joint route gets its own copy."""
    version = version or registry.active_version(settings)
    if version is not None:
        parts = load_version_towers(settings, version, device, shared=text)
        config, text, tower, heads, trained = parts.config, parts.text, parts.tower, parts.heads, True
    else:
        config = default_config(settings, text.dim)
        heads, trained, version = seeded_heads(config), False, untrained_version_name(config)
        tower = None
        if config.text_model != text.model_name:  # the settings name another text tower than the one given
            text = TextEncoder(config.text_model, str(device), settings.encode_batch_size)
    model = TowerClip(config, text, heads, device=device, image_tower=tower)
    return ClipJoint(
        model,
        model.preprocess,
        model.tokenizer,
        version=version,
        trained=trained,
        device=device,
        batch_size=settings.encode_batch_size,
    )
