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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial

import numpy as np
import pandas as pd
import torch

from recsys import registry
from recsys.config import Settings
from recsys.encoders.checkpoint import WEIGHTS_FILE, read_heads, write_heads
from recsys.encoders.feature_cache import (
    FeatureCache,
    image_key,
    open_image,
    text_key,
)
from recsys.encoders.image_tower import ImageTower
from recsys.encoders.openclip_path import slug
from recsys.encoders.text import TextEncoder, pick_device
from recsys.encoders.tower_clip import ClipHeads, TowerClipConfig
from recsys.encoders.tower_path import MODEL_KIND, config_for_tower, default_config
from recsys.progress import Progress
from recsys.splits import is_holdout, split_keys
from recsys.training.attributes import check_fields, phrases
from recsys.training.head_fit import (
    AttributeGroups,
    FitData,
    HeadTrainingConfig,
    TrainingCancelled,
    fit_heads,
    validation_recall,
)
from recsys.training.pairs import EpochEnd, PairValues, StepEnd, TrainingPair, pair_terms

log = logging.getLogger(__name__)
__all__ = ["HeadTrainingConfig", "TrainingCancelled", "compute_features", "train_heads", "validation_split"]


@dataclass
class TowerFeatures:
    image: np.ndarray
    text: np.ndarray
    image_keys: list[str]
    text_keys: list[str]


def compute_features(
    pairs: Sequence[TrainingPair],
    settings: Settings,
    tower: ImageTower,
    text: TextEncoder,
    progress: Progress | None = None,
) -> TowerFeatures:
    """Frozen-tower features of every pair, from the disk cache where present."""
    root = settings.data_dir / "features"
    image_keys = [image_key(p.image) for p in pairs]
    text_keys = [text_key(p.text) for p in pairs]
    images = FeatureCache(root, tower.id).get_or_compute(
        image_keys,
        lambda idx: tower.features([open_image(pairs[i].image) for i in idx]),
        tower.dim,
        progress=(lambda done, total: progress(done, total, "image features")) if progress else None,
    )
    texts = FeatureCache(root, "text-" + slug(text.model_name)).get_or_compute(
        text_keys,
        lambda idx: text.encode([pairs[i].text for i in idx]),
        text.dim,
        progress=(lambda done, total: progress(done, total, "text features")) if progress else None,
    )
    return TowerFeatures(images, texts, image_keys, text_keys)


def _encode_some(text: TextEncoder, texts: Sequence[str], idx: Sequence[int]) -> np.ndarray:
    return text.encode([texts[i] for i in idx])


def attribute_groups(
    kept: Sequence[TrainingPair],
    train_rows: Sequence[int],
    fields: Sequence[str],
    settings: Settings,
    text: TextEncoder,
) -> list[AttributeGroups]:
    """Per field, the value index of each training row (-1: the pair has none) and the tower text features of
    every phrasing of every value (the shared text cache: a few hundred short phrases, seconds once)."""
    if problems := check_fields(fields):
        raise ValueError("; ".join(problems))
    cache = FeatureCache(settings.data_dir / "features", "text-" + slug(text.model_name))
    out = []
    for name in fields:
        per_row = [dict(kept[i].attributes).get(name, "") for i in train_rows]
        values = sorted({v for v in per_row if v})
        if not values:
            continue
        index = {v: n for n, v in enumerate(values)}
        texts = [t for v in values for t in phrases(name, v)]
        feats = cache.get_or_compute([text_key(t) for t in texts], partial(_encode_some, text, texts), text.dim)
        groups = torch.tensor([index.get(v, -1) if v else -1 for v in per_row], dtype=torch.int64)
        out.append(AttributeGroups(name, groups, torch.from_numpy(feats).view(len(values), -1, text.dim)))
    return out


def _fingerprint(features: TowerFeatures) -> str:
    digest = hashlib.sha256()
    for pair in sorted(zip(features.text_keys, features.image_keys)):
        digest.update("".join(pair).encode())
    return digest.hexdigest()


def validation_split(kept: Sequence[TrainingPair], fraction: float, min_pairs: int) -> tuple[list[int], list[int]]:
    """(train rows, validation rows) by a salted hash of the item id; no validation rows on small catalogs.

    A validation item keeps one row, its first pair: a second row of the same image (another text view, another
    click) would tie with the positive and count against it. Both trainers (heads here, towers in tower_finetune)
    use it, so they validate on the same items."""
    ids = sorted({p.external_id for p in kept})
    _, val_ids = split_keys(ids, fraction, salt="taillift-heads-validation")
    val_set = set(val_ids) if len(val_ids) >= min_pairs else set()
    train_rows = [i for i, p in enumerate(kept) if p.external_id not in val_set]
    first: dict[str, int] = {}
    for i, p in enumerate(kept):
        if p.external_id in val_set:
            first.setdefault(p.external_id, i)
    return train_rows, sorted(first.values())


def _evaluate(heads: ClipHeads, image: torch.Tensor, text: torch.Tensor) -> dict[str, float]:
    recall, mrr = validation_recall(heads, image, text)
    return {
        "text_to_image_recall@10": recall,
        "text_to_image_mrr@10": mrr,
        "pairs": len(image),
        "temperature": float(torch.exp(-heads.logit_scale.detach())),
    }


def _ids(values: Sequence[str]) -> np.ndarray:
    """Integer ids for string keys (same key = same id)."""
    return pd.factorize(pd.Series(list(values), dtype=object))[0].astype(np.int64)


def _miner(settings: Settings, version: str | None, model_config: TowerClipConfig) -> ClipHeads | None:
    """The heads of ``version`` when they read the same tower features (else hard negatives start at epoch 2)."""
    if not version:
        return None
    try:
        folder = registry.version_dir(settings, version)
        config = TowerClipConfig.from_dict(registry.read_config(folder)["model"])
        if config.image_tuned_blocks or config.text_tuned_layers:  # its heads read tuned-tower features
            return None
        if (config.image_dim, config.text_dim, config.image_tower, config.image_size, config.text_model) != (
            model_config.image_dim,
            model_config.text_dim,
            model_config.image_tower,
            model_config.image_size,
            model_config.text_model,
        ) or not (folder / WEIGHTS_FILE).exists():
            return None
        return read_heads(folder, config)
    except (KeyError, ValueError, OSError):
        return None


def _add_negative_pool(
    data: FitData,
    kept: Sequence[TrainingPair],
    features: TowerFeatures,
    train_rows: Sequence[int],
    extra: Sequence[TrainingPair],
    features_of: Callable[[Sequence[TrainingPair]], TowerFeatures],
) -> None:
    """Fill ``data``'s pool with each item once (uniform draws must not follow click popularity): the first
    training row of every item, then ``extra`` pairs of items with no row in ``kept`` (validation items stay out)."""
    first = np.asarray(sorted({kept[i].external_id: i for i in reversed(train_rows)}.values()), dtype=np.int64)
    seen = {p.external_id for p in kept}
    extra = list({p.external_id: p for p in extra if p.external_id not in seen}.values())
    more = features_of(extra) if extra else None
    image = torch.from_numpy(features.image[first])
    if more is not None:
        image = torch.cat([image, torch.from_numpy(more.image)])
    item_ids = _ids([p.external_id for p in kept] + [p.external_id for p in extra])
    text_ids = _ids(features.text_keys + (more.text_keys if more else []))
    rows = np.concatenate([first, len(kept) + np.arange(len(extra))])
    data.pool_image, data.pool_item, data.pool_text_id = image, item_ids[rows], text_ids[rows]
    # same ids on both sides: the training rows' ids come from the same factorisation
    data.item, data.text_id = item_ids[np.asarray(train_rows)], text_ids[np.asarray(train_rows)]


def train_heads(
    pairs: Sequence[TrainingPair],
    settings: Settings,
    progress: Progress | None = None,
    exclude: Callable[[str], bool] = is_holdout,
    config: HeadTrainingConfig = HeadTrainingConfig(),
    activate: bool = True,
    text: TextEncoder | None = None,
    tower: ImageTower | None = None,
    *,
    pair_weights: PairValues | None = None,
    pair_log_q: PairValues | None = None,
    on_epoch: EpochEnd | None = None,
    on_step: StepEnd | None = None,
    should_stop: Callable[[], bool] | None = None,
    manifest_extra: dict | None = None,
    negative_pool: Sequence[TrainingPair] = (),
    miner_version: str | None = None,
) -> str:
    """Train heads on ``pairs`` and save them as a new model version; returns the version name.

    ``exclude`` drops more items; held-out ones are dropped regardless. Pass loaded ``text``/``tower`` to reuse them.
    Options (all off by default): ``pair_weights(kept)`` gives per-pair loss weights (normalised here to mean 1
    over the training rows); ``pair_log_q(kept)`` replaces the per-item logQ when ``config.log_q`` is on;
    ``on_epoch``/``should_stop`` report and cancel between epochs, ``on_step`` reports each batch's loss;
    ``manifest_extra`` is stored in config.json.
    Hard and uniform negatives come from the training rows' images plus ``negative_pool`` (e.g. every catalog
    item when the pairs are query-click pairs); ``miner_version``'s heads mine the first epoch's hard negatives.
    """
    started = time.time()
    usable = lambda p: not is_holdout(p.external_id) and not exclude(p.external_id)
    kept = [p for p in pairs if usable(p)]
    if len(kept) < 2:
        raise ValueError(f"need at least 2 training pairs after excluding held-out items, got {len(kept)}")
    device = pick_device(settings.device)
    text = text or TextEncoder(
        settings.text_model, str(device), settings.encode_batch_size, query_precision=settings.query_precision
    )
    defaults = default_config(settings, text.dim)
    tower = tower or ImageTower(defaults.image_tower, defaults.image_size, defaults.flip, device=device)
    model_config = config_for_tower(
        defaults, tower, hidden=config.hidden, embed_dim=config.embed_dim, temperature=config.temperature
    )
    features = compute_features(kept, settings, tower, text, progress)

    train_rows, val_rows = validation_split(kept, config.val_fraction, config.min_val_pairs)
    image_t, text_t = torch.from_numpy(features.image), torch.from_numpy(features.text)
    weights, log_q = pair_terms(kept, train_rows, log_q=config.log_q, pair_log_q=pair_log_q, pair_weights=pair_weights)
    train = np.asarray(train_rows)
    items, texts = _ids([p.external_id for p in kept]), _ids(features.text_keys)
    data = FitData(
        image=image_t[train],
        text=text_t[train],
        item=items[train],
        text_id=texts[train],
        pool_image=image_t[:0],
        pool_item=items[:0],
        pool_text_id=texts[:0],
        weights=None if weights is None else weights[train],
        log_q=None if log_q is None else log_q[train],
        val_image=image_t[val_rows] if val_rows else None,
        val_text=text_t[val_rows] if val_rows else None,
    )
    if config.attribute_weight > 0:
        data.attributes = attribute_groups(kept, train_rows, config.attribute_fields, settings, text)
    if config.hard_negatives or config.uniform_negatives:
        extra = [p for p in negative_pool if usable(p)]
        _add_negative_pool(
            data, kept, features, train_rows, extra, lambda pairs: compute_features(pairs, settings, tower, text)
        )
    fit_started = time.time()
    result = fit_heads(
        data,
        model_config,
        config,
        miner=_miner(settings, miner_version, model_config),
        progress=progress,
        on_epoch=on_epoch,
        on_step=on_step,
        should_stop=should_stop,
    )
    heads = result.heads
    metrics: dict[str, object] = {
        **_evaluate(heads, image_t[val_rows or train_rows], text_t[val_rows or train_rows]),
        "metrics_on": "validation" if val_rows else "train",
        "train_pairs": len(train_rows),
        "negative_pool": len(data.pool_image),
        "epoch_losses": result.losses,
        "epoch_val_recall@10": result.val_recall,
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "fit_seconds": time.time() - fit_started,
        "total_seconds": time.time() - started,
    }

    fingerprint = _fingerprint(features)
    version = f"towerclip-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{fingerprint[:8]}"
    existing = set(registry.list_versions(settings))
    version = next(v for n in range(1, 1000) if (v := version if n == 1 else f"{version}-{n}") not in existing)
    manifest = {
        **(manifest_extra or {}),
        "kind": MODEL_KIND,
        "version": version,
        "model": model_config.to_dict(),
        "image_tower_id": tower.id,
        "text_model": text.model_name,
        "data_fingerprint": fingerprint,
        "training": asdict(config),
        "metrics": metrics,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    registry.save_version(settings, version, manifest, lambda folder: write_heads(folder, heads))
    if activate:
        registry.activate(settings, version)
    log.info("trained heads %s: %s", version, json.dumps({k: v for k, v in metrics.items() if k != "epoch_losses"}))
    return version
