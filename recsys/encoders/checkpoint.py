"""Reading and writing the weights inside a ``TowerClip`` model version folder.

``heads.pt``: the trained heads (every version). ``towers.pt``: only in a tower fine-tuned version, the tuned
parameters alone (``{"image": {name: tensor}, "text": {name: tensor}}``), loaded over the packaged weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from recsys.encoders.tower_clip import ClipHeads, TowerClipConfig

WEIGHTS_FILE = "heads.pt"
TOWERS_FILE = "towers.pt"

TensorState = Mapping[str, torch.Tensor]


def write_heads(folder: Path, heads: ClipHeads) -> None:
    state = {k: v.detach().cpu() for k, v in heads.state_dict().items()}
    torch.save(state, folder / WEIGHTS_FILE)


def read_heads(folder: Path, config: TowerClipConfig) -> ClipHeads:
    heads = ClipHeads(config)
    heads.load_state_dict(torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True))
    return heads.eval()


def write_towers(folder: Path, image: TensorState, text: TensorState) -> None:
    """The tuned tower parameters (CPU float32), keyed by their names in the packaged models."""
    state = {
        "image": {k: v.detach().cpu() for k, v in image.items()},
        "text": {k: v.detach().cpu() for k, v in text.items()},
    }
    torch.save(state, folder / TOWERS_FILE)


def read_towers(folder: Path, config: TowerClipConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(image state, text state) of a tuned version; two empty dicts for a heads-only version."""
    if not config.tuned:
        return {}, {}
    path = folder / TOWERS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{folder.name}: config says the towers were tuned but {TOWERS_FILE} is missing")
    state = torch.load(path, map_location="cpu", weights_only=True)
    return dict(state.get("image", {})), dict(state.get("text", {}))
