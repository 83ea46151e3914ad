"""Train the projection heads of the offline CLIP on (text, image) pairs with symmetric InfoNCE.

The towers are frozen, so their features are computed once and cached on disk (keyed by content hash); each
training run then only fits two small heads on cached arrays, which takes seconds to a few minutes on a CPU.
Held-out items (``recsys.splits.is_holdout``) are always dropped, whatever ``exclude`` says.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from recsys.config import Settings
from recsys.encoders.checkpoint import write_heads
from recsys.encoders.feature_cache import FeatureCache, ImageSource, image_key, open_image, text_key
from recsys.encoders.image_tower import ImageTower
from recsys.encoders.openclip_path import slug
from recsys.encoders.text import TextEncoder, pick_device
from recsys.encoders.tower_clip import ClipHeads, TowerClipConfig
from recsys.encoders.tower_path import MODEL_KIND, default_config
from recsys.splits import is_holdout, split_keys
from recsys.training import registry
from recsys.training.losses import contrastive_logits, log_q_from_counts, symmetric_info_nce
from recsys.training.retrieval import paired_recall_mrr

log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]  # (stage, fraction done in [0, 1])
EpochEnd = Callable[[int, float, float], None]  # (epoch number from 1, mean loss, training pairs per second)
PairValues = Callable[[Sequence["TrainingPair"]], np.ndarray]  # one value per (kept) pair, in order


class TrainingCancelled(RuntimeError):
    """``should_stop`` said so between two epochs; nothing was saved."""


@dataclass(frozen=True)
class TrainingPair:
    external_id: str
    text: str  # use recsys.encoders.content.clip_text so training matches item vectors
    image: ImageSource


@dataclass(frozen=True)
class HeadTrainingConfig:
    epochs: int = 8
    batch_size: int = 1024  # more in-batch negatives per step; cheap because only the heads run
    lr: float = 2e-3
    weight_decay: float = 0.05
    hidden: int = 1024  # MLP branch of each head; 0 = linear heads
    embed_dim: int = 256
    temperature_lr_scale: float = 20.0
    log_q: bool = False  # logQ correction by item frequency (matters when items repeat across pairs)
    val_fraction: float = 0.05  # of non-held-out items, for the metrics in config.json
    min_val_pairs: int = 200  # below this, metrics are reported on the training pairs
    seed: int = 0


@dataclass
class TowerFeatures:
    image: np.ndarray
    text: np.ndarray
    image_keys: list[str]
    text_keys: list[str]


def compute_features(pairs: Sequence[TrainingPair], settings: Settings, tower: ImageTower, text: TextEncoder,
                     progress: Progress | None = None) -> TowerFeatures:
    """Frozen-tower features of every pair, from the disk cache where present."""
    root = settings.data_dir / "features"
    image_keys = [image_key(p.image) for p in pairs]
    text_keys = [text_key(p.text) for p in pairs]
    images = FeatureCache(root, tower.id).get_or_compute(
        image_keys, lambda idx: tower.features([open_image(pairs[i].image) for i in idx]), tower.dim,
        progress=(lambda done, total: progress("image features", done / total)) if progress else None)
    texts = FeatureCache(root, "text-" + slug(text.model_name)).get_or_compute(
        text_keys, lambda idx: text.encode([pairs[i].text for i in idx]), text.dim,
        progress=(lambda done, total: progress("text features", done / total)) if progress else None)
    return TowerFeatures(images, texts, image_keys, text_keys)


def _optimizer(heads: ClipHeads, config: HeadTrainingConfig) -> tuple[torch.optim.AdamW, list[float]]:
    """Weight decay on matrices only; the temperature gets no decay and a faster rate, or it barely moves."""
    named = [(n, p) for n, p in heads.named_parameters() if n != "logit_scale"]
    groups = [{"params": [p for _, p in named if p.ndim >= 2], "weight_decay": config.weight_decay},
              {"params": [p for _, p in named if p.ndim < 2], "weight_decay": 0.0},
              {"params": [heads.logit_scale], "weight_decay": 0.0}]
    max_lrs = [config.lr, config.lr, config.lr * config.temperature_lr_scale]
    return torch.optim.AdamW(groups, lr=config.lr), max_lrs


def weighted_info_nce(a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor, weights: torch.Tensor,
                      log_q: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE with each pair's two cross-entropies weighted (weighted mean over the batch)."""
    a_to_b, b_to_a = contrastive_logits(a, b, logit_scale, log_q)
    target = torch.arange(a.shape[0], device=a.device)
    per_pair = 0.5 * (F.cross_entropy(a_to_b, target, reduction="none") +
                      F.cross_entropy(b_to_a, target, reduction="none"))
    return (weights * per_pair).sum() / weights.sum()


def fit_heads(image: torch.Tensor, text: torch.Tensor, model_config: TowerClipConfig, config: HeadTrainingConfig,
              log_q: torch.Tensor | None = None, progress: Progress | None = None,
              weights: torch.Tensor | None = None, on_epoch: EpochEnd | None = None,
              should_stop: Callable[[], bool] | None = None) -> tuple[ClipHeads, list[float]]:
    """AdamW with a cosine schedule over shuffled in-batch-negative batches; returns heads and epoch losses.

    ``weights`` (one per pair) weight the loss; ``should_stop`` is asked before each epoch and raises
    ``TrainingCancelled`` when true, so a cancelled run never returns half-trained heads.
    """
    torch.manual_seed(config.seed)
    heads = ClipHeads(model_config).train()
    heads.visual.fit_standardisation(image)
    heads.text.fit_standardisation(text)
    optimizer, max_lrs = _optimizer(heads, config)
    steps_per_epoch = max(1, -(-len(image) // config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lrs, pct_start=0.1,
                                                   total_steps=config.epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(config.seed)
    losses = []
    for epoch in range(config.epochs):
        if should_stop is not None and should_stop():
            raise TrainingCancelled(f"cancelled before epoch {epoch + 1} of {config.epochs}")
        epoch_started = time.perf_counter()
        order = torch.randperm(len(image), generator=generator)
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            if len(idx) < 2:  # a lone pair has no negatives
                continue
            q = None if log_q is None else log_q[idx]
            if weights is None:
                loss = symmetric_info_nce(heads.project_text(text[idx]), heads.project_image(image[idx]),
                                          heads.logit_scale, q)
            else:
                loss = weighted_info_nce(heads.project_text(text[idx]), heads.project_image(image[idx]),
                                         heads.logit_scale, weights[idx], q)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / len(order))
        if on_epoch is not None:
            on_epoch(epoch + 1, losses[-1], len(order) / max(time.perf_counter() - epoch_started, 1e-9))
        if progress is not None:
            progress("training heads", (epoch + 1) / config.epochs)
    return heads.eval(), losses


def _fingerprint(features: TowerFeatures) -> str:
    digest = hashlib.sha256()
    for pair in sorted(zip(features.text_keys, features.image_keys)):
        digest.update("".join(pair).encode())
    return digest.hexdigest()


def _validation_split(kept: Sequence[TrainingPair], config: HeadTrainingConfig) -> tuple[list[int], list[int]]:
    """(train rows, validation rows) by a salted hash of the item id; no validation rows on small catalogs."""
    ids = sorted({p.external_id for p in kept})
    _, val_ids = split_keys(ids, config.val_fraction, salt="taillift-heads-validation")
    val_set = set(val_ids) if len(val_ids) >= config.min_val_pairs else set()
    train_rows = [i for i, p in enumerate(kept) if p.external_id not in val_set]
    return train_rows, [i for i, p in enumerate(kept) if p.external_id in val_set]


def _log_q(kept: Sequence[TrainingPair]) -> torch.Tensor:
    """Per-pair log sampling probability of its item (items with several images are sampled more often)."""
    counts: dict[str, int] = {}
    for p in kept:
        counts[p.external_id] = counts.get(p.external_id, 0) + 1
    return log_q_from_counts(torch.tensor([counts[p.external_id] for p in kept]))


def _evaluate(heads: ClipHeads, image: torch.Tensor, text: torch.Tensor) -> dict[str, float]:
    with torch.no_grad():
        queries, items = heads.project_text(text).numpy(), heads.project_image(image).numpy()
    recall, mrr = paired_recall_mrr(queries, items, k=10)
    return {"text_to_image_recall@10": recall, "text_to_image_mrr@10": mrr, "pairs": len(items),
            "temperature": float(torch.exp(-heads.logit_scale.detach()))}


def train_heads(pairs: Sequence[TrainingPair], settings: Settings, progress: Progress | None = None,
                exclude: Callable[[str], bool] = is_holdout, config: HeadTrainingConfig = HeadTrainingConfig(),
                activate: bool = True, text: TextEncoder | None = None, tower: ImageTower | None = None, *,
                pair_weights: PairValues | None = None, pair_log_q: PairValues | None = None,
                on_epoch: EpochEnd | None = None, should_stop: Callable[[], bool] | None = None,
                manifest_extra: dict | None = None) -> str:
    """Train heads on ``pairs`` and save them as a new model version; returns the version name.

    ``exclude`` drops more items; held-out ones are dropped regardless. Pass loaded ``text``/``tower`` to reuse them.
    Options (all off by default): ``pair_weights(kept)`` gives per-pair loss weights (normalised here to mean 1
    over the training rows); ``pair_log_q(kept)`` replaces the per-item logQ when ``config.log_q`` is on;
    ``on_epoch``/``should_stop`` report and cancel between epochs; ``manifest_extra`` is stored in config.json.
    """
    started = time.time()
    kept = [p for p in pairs if not is_holdout(p.external_id) and not exclude(p.external_id)]
    if len(kept) < 2:
        raise ValueError(f"need at least 2 training pairs after excluding held-out items, got {len(kept)}")
    device = pick_device(settings.device)
    text = text or TextEncoder(settings.text_model, str(device), settings.encode_batch_size)
    defaults = default_config(settings, text.dim)
    tower = tower or ImageTower(defaults.image_tower, defaults.image_size, defaults.flip, device=device)
    # The saved config must rebuild the tower that made the features, so take it from the tower itself.
    model_config = replace(defaults, image_tower=tower.name, image_size=tower.size[0], flip=tower.flip,
                           image_dim=tower.dim, hidden=config.hidden, embed_dim=config.embed_dim)
    features = compute_features(kept, settings, tower, text, progress)

    train_rows, val_rows = _validation_split(kept, config)
    image_t, text_t = torch.from_numpy(features.image), torch.from_numpy(features.text)
    log_q = None
    if config.log_q:
        log_q = _log_q(kept) if pair_log_q is None else torch.as_tensor(pair_log_q(kept), dtype=torch.float32)
    weights = None
    if pair_weights is not None:
        weights = torch.as_tensor(np.asarray(pair_weights(kept), dtype=np.float32)[train_rows])
        weights = weights / weights.mean()  # mean 1: the loss keeps its scale, so the learning rate keeps its meaning
    fit_started = time.time()
    heads, losses = fit_heads(image_t[train_rows], text_t[train_rows], model_config, config,
                              None if log_q is None else log_q[train_rows], progress, weights, on_epoch, should_stop)
    metrics = _evaluate(heads, image_t[val_rows or train_rows], text_t[val_rows or train_rows])
    metrics.update({"metrics_on": "validation" if val_rows else "train", "train_pairs": len(train_rows),
                    "epoch_losses": losses, "fit_seconds": time.time() - fit_started,
                    "total_seconds": time.time() - started})

    fingerprint = _fingerprint(features)
    version = f"towerclip-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{fingerprint[:8]}"
    existing = set(registry.list_versions(settings))
    version = next(v for n in range(1, 1000) if (v := version if n == 1 else f"{version}-{n}") not in existing)
    manifest = {**(manifest_extra or {}), "kind": MODEL_KIND, "version": version, "model": model_config.to_dict(),
                "image_tower_id": tower.id, "text_model": text.model_name, "data_fingerprint": fingerprint,
                "training": asdict(config), "metrics": metrics,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    registry.save_version(settings, version, manifest, lambda folder: write_heads(folder, heads))
    if activate:
        registry.activate(settings, version)
    log.info("trained heads %s: %s", version, json.dumps({k: v for k, v in metrics.items() if k != "epoch_losses"}))
    return version
