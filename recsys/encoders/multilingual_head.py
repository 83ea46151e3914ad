"""A projection head from multilingual sentence vectors (USE / e5) into the joint image space of one model version.

The MiniLM route reaches the image space through its version's text head; a Chinese query has no such head, so
this one is trained for it: on (multilingual vector of an item's English title, the version's joint image vector
of that item) pairs, with the image side frozen. Only the new head learns, so the item vectors already indexed
stay valid, and a Chinese query lands where English titles of the same things land (USE maps both languages
near each other). Fitted by ``recsys.training.multilingual_head_fit`` (training kept apart from the model).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recsys.encoders.heads import ProjectionHead


@dataclass(frozen=True)
class MultilingualHeadConfig:
    """What rebuilds the head (stored as config.json beside its weights) and how it was fitted."""

    text_model: str  # hub id of the multilingual encoder (recsys.encoders.multilingual)
    joint_version: str  # the tower_clip version whose joint image vectors were the targets
    in_dim: int
    embed_dim: int
    hidden: int = 1024
    epochs: int = 8
    batch_size: int = 1024
    lr: float = 2e-3
    weight_decay: float = 0.05
    temperature: float = 0.07
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MultilingualHeadConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class MultilingualHead(nn.Module):
    """``project(vectors)``: multilingual sentence vectors [n, in_dim] -> joint-space unit rows [n, embed_dim]."""

    def __init__(self, config: MultilingualHeadConfig) -> None:
        super().__init__()
        self.config = config
        self.head = ProjectionHead(config.in_dim, config.embed_dim, config.hidden)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / config.temperature)))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(feats), dim=-1)

    @torch.no_grad()
    def project(self, vectors: np.ndarray) -> np.ndarray:
        rows = np.asarray(vectors, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.config.in_dim:
            raise ValueError(f"expected [n, {self.config.in_dim}] multilingual vectors, got shape {rows.shape}")
        self.eval()
        return self(torch.from_numpy(rows)).numpy().astype(np.float32)
