"""A projection head from multilingual sentence vectors (USE / e5) into the joint image space of one model version.

The MiniLM route reaches the image space through its version's text head; a Chinese query has no such head, so
this one is trained for it: on (multilingual vector of an item's English title, the version's joint image vector
of that item) pairs, with the image side frozen. Only the new head learns, so the item vectors already indexed
stay valid, and a Chinese query lands where English titles of the same things land (USE maps both languages
near each other). Loss: the symmetric InfoNCE of head training (``recsys.training.losses``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recsys.encoders.heads import ProjectionHead
from recsys.training.losses import symmetric_info_nce


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


def fit_multilingual_head(
    text_vectors: np.ndarray, image_joint: np.ndarray, config: MultilingualHeadConfig
) -> tuple[MultilingualHead, list[float]]:
    """Train a head so ``text_vectors[i]`` lands on ``image_joint[i]`` (frozen unit rows): (head, epoch losses)."""
    text = torch.from_numpy(np.asarray(text_vectors, dtype=np.float32))
    image = F.normalize(torch.from_numpy(np.asarray(image_joint, dtype=np.float32)), dim=-1)
    if text.ndim != 2 or image.ndim != 2 or len(text) != len(image):
        raise ValueError(f"need aligned [n, d] rows, got text {tuple(text.shape)} and image {tuple(image.shape)}")
    if text.shape[1] != config.in_dim or image.shape[1] != config.embed_dim:
        raise ValueError(
            f"config says {config.in_dim} -> {config.embed_dim}, rows are {text.shape[1]} -> {image.shape[1]}"
        )
    if len(text) < 2:
        raise ValueError("need at least 2 pairs (the loss contrasts each pair with the others)")
    torch.manual_seed(config.seed)
    model = MultilingualHead(config)
    model.head.fit_standardisation(text)
    # As head training does: decay on matrices only; the temperature learns 20x faster, undecayed, or barely moves.
    params = list(model.head.parameters())
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
            {"params": [model.logit_scale], "weight_decay": 0.0},
        ],
        lr=config.lr,
    )
    steps = config.epochs * math.ceil(len(text) / config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=[config.lr, config.lr, config.lr * 20], total_steps=max(steps, 1), pct_start=0.1
    )
    generator = torch.Generator().manual_seed(config.seed)
    losses = []
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(text), generator=generator)
        total, batches = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            if len(idx) < 2:
                continue
            loss = symmetric_info_nce(model(text[idx]), image[idx], model.logit_scale.clamp(max=math.log(100)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total, batches = total + loss.item(), batches + 1
        losses.append(total / max(batches, 1))
    return model.eval(), losses
