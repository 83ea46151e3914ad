"""Fitting the multilingual projection head (``recsys.encoders.multilingual_head``) with the symmetric InfoNCE of
head training, the image side frozen.

``fit_multilingual_head``: the fit on aligned (text vector, joint image vector) rows. ``fit_catalog_head``: the
app's fit for a served version, from its items' titles and the image route rows already in its index (nothing
re-encoded but the titles, through the feature cache), stored where ``multilingual_query.load_route`` reads it;
run by ``python -m recsys train multilingual-head`` or in the background after a version is served
(``Settings.multilingual_head_autofit``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from recsys.config import Settings
from recsys.encoders.feature_cache import FeatureCache, text_key
from recsys.encoders.multilingual import MultilingualTextEncoder
from recsys.encoders.multilingual_head import MultilingualHead, MultilingualHeadConfig
from recsys.encoders.multilingual_head_store import save_head
from recsys.encoders.openclip_path import slug
from recsys.splits import is_holdout
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


VALIDATION_SALT = "taillift-multilingual-head-validation"  # the bench's split: 10% of the fit items, by hash
VALIDATION_FRACTION = 0.1
MIN_PAIRS = 50  # fewer items with a photo than this: no head (the contrast would be between a handful of pairs)


@dataclass(frozen=True)
class CatalogHeadFit:
    head: MultilingualHead
    folder: Path
    metrics: dict


def fit_catalog_head(
    settings: Settings,
    joint_version: str,
    keys: Sequence[str],
    titles: Sequence[str],
    image_joint: np.ndarray,
    encoder: MultilingualTextEncoder | None = None,
) -> CatalogHeadFit:
    """Fit and store the multilingual head of ``joint_version`` from a served catalog: item ``titles`` and their
    joint image vectors (``image_joint``, the version's image route rows; all-zero rows, items without a photo,
    are left out), ``keys`` the items' external ids (the validation split hashes them; the caller leaves held-out
    items out). Titles are encoded with ``settings.multilingual_text_model`` through the feature cache under
    ``data_dir/features`` (the bench's, so a refit or another version re-encodes nothing)."""
    image = np.asarray(image_joint, dtype=np.float32)
    if not (len(keys) == len(titles) == len(image)):
        raise ValueError(f"keys, titles and image rows differ in length: {len(keys)}, {len(titles)}, {len(image)}")
    with_photo = np.linalg.norm(image, axis=1) > 0
    keys = [k for k, on in zip(keys, with_photo, strict=True) if on]
    titles = [t for t, on in zip(titles, with_photo, strict=True) if on]
    image = image[with_photo]
    if len(titles) < MIN_PAIRS:
        raise ValueError(f"{len(titles)} items with a photo; a multilingual head needs at least {MIN_PAIRS}")
    started = time.perf_counter()
    encoder = encoder or MultilingualTextEncoder(settings.multilingual_text_model, threads=1)
    cache = FeatureCache(settings.data_dir / "features", "text-" + slug(encoder.model_name) + "-items")
    missing = sum(text_key(t) not in cache for t in titles)
    text = cache.get_or_compute(
        [text_key(t) for t in titles], lambda idx: encoder.encode_items([titles[n] for n in idx]), encoder.dim
    )
    encode_seconds = time.perf_counter() - started
    validation = np.fromiter((is_holdout(k, VALIDATION_FRACTION, VALIDATION_SALT) for k in keys), bool, len(keys))
    if validation.all() or (~validation).sum() < 2:
        validation[:] = False
    config = MultilingualHeadConfig(encoder.model_name, joint_version, encoder.dim, image.shape[1])
    t0 = time.perf_counter()
    head, losses = fit_multilingual_head(text[~validation], image[~validation], config)
    metrics: dict = {
        "fit_pairs": int((~validation).sum()),
        "validation_pairs": int(validation.sum()),
        "titles_encoded": int(missing),
        "titles_per_s": round(missing / encode_seconds, 1) if missing and encode_seconds > 0 else None,
        "fit_seconds": round(time.perf_counter() - t0, 1),
        "epoch_losses": losses,
    }
    if validation.sum() >= 10:
        scores = head.project(text[validation]) @ image[validation].T
        top = np.argsort(-scores, axis=1)[:, :10]
        metrics["validation_title_image_r@10"] = float(np.mean([i in row for i, row in enumerate(top)]))
    return CatalogHeadFit(head, save_head(settings, head, metrics), metrics)
