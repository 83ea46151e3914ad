"""Real open_clip models (built-in names with a pretrained tag or checkpoint, ``hf-hub:`` ids, ``local-dir:``)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import torch

from recsys.config import Settings
from recsys.encoders.joint import ClipJoint


def _weights_tag(model_name: str, pretrained: str) -> str:
    """Names the weights: a file's content hash, a pretrained tag, or 'random' for untrained configs."""
    path = Path(pretrained).expanduser() if pretrained else None
    if path is not None and path.is_file():
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return "sha256-" + digest.hexdigest()[:16]
    if pretrained:
        return pretrained
    return "hub" if model_name.startswith(("hf-hub:", "local-dir:")) else "random"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def load_open_clip_joint(settings: Settings, device: torch.device) -> ClipJoint:
    import open_clip

    name, pretrained = settings.clip_model, settings.clip_pretrained
    tag = _weights_tag(name, pretrained)
    if tag == "random":
        torch.manual_seed(0)  # an untrained config still gives the same vectors on every load
    model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained or None, device=device)
    tokenizer = open_clip.get_tokenizer(name)
    return ClipJoint(
        model,
        preprocess,
        tokenizer,
        version=slug(f"openclip-{name}-{tag}"),
        trained=tag != "random",
        device=device,
        batch_size=settings.encode_batch_size,
    )
