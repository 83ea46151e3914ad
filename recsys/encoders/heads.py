"""Trainable projection heads that map frozen tower features into the shared (joint) embedding space."""
from __future__ import annotations

import torch
from torch import nn


class ProjectionHead(nn.Module):
    """LayerNorm -> linear projection, plus a residual GELU MLP branch when ``hidden`` > 0.

    The input LayerNorm puts ReLU6 CNN features and unit-length sentence vectors on one scale; the linear path
    alone is a strong start on few pairs, and the MLP branch adds capacity when there are many.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 0, dropout: float = 0.1) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(in_dim)
        self.linear = nn.Linear(in_dim, out_dim)
        self.mlp = (nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, out_dim)) if hidden > 0 else None)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = self.norm(feats)
        out = self.linear(x)
        return out + self.mlp(x) if self.mlp is not None else out
