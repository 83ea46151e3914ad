"""Fitting the multilingual projection head (``recsys.encoders.multilingual_head``) with the symmetric InfoNCE of
head training, the image side frozen."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from recsys.encoders.multilingual_head import MultilingualHead, MultilingualHeadConfig
from recsys.training.losses import symmetric_info_nce


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
