"""Reading and writing the trained heads of a ``TowerClip`` (the weights file inside a model version folder)."""
from __future__ import annotations

from pathlib import Path

import torch

from recsys.encoders.tower_clip import ClipHeads, TowerClipConfig

WEIGHTS_FILE = "heads.pt"


def write_heads(folder: Path, heads: ClipHeads) -> None:
    state = {k: v.detach().cpu() for k, v in heads.state_dict().items()}
    torch.save(state, folder / WEIGHTS_FILE)


def read_heads(folder: Path, config: TowerClipConfig) -> ClipHeads:
    heads = ClipHeads(config)
    heads.load_state_dict(torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True))
    return heads.eval()
