"""The training loop of the projection heads on cached tower features.

Symmetric InfoNCE over shuffled in-batch negatives, plus the options of a run: per-pair weights (tail
up-weighting), logQ correction, hard negatives mined from the pool's index each epoch, a uniform-negative side
loss, a fixed or learned temperature, and early stopping on validation recall@10 (the best epoch's heads are kept).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from recsys.encoders.tower_clip import ClipHeads, TowerClipConfig
from recsys.progress import Progress
from recsys.training.losses import info_nce_with_negatives, multi_positive_info_nce, uniform_negative_loss
from recsys.training.negatives import mine_hard_negatives
from recsys.training.pairs import EpochEnd, StepEnd
from recsys.training.retrieval import paired_recall_mrr


class TrainingCancelled(RuntimeError):
    """``should_stop`` said so between two epochs; nothing was saved."""


@dataclass(frozen=True)
class HeadTrainingConfig:
    epochs: int = 8
    batch_size: int = 1024  # more in-batch negatives per step; cheap because only the heads run
    lr: float = 2e-3
    weight_decay: float = 0.05
    hidden: int = 1024  # MLP branch of each head; 0 = linear heads
    embed_dim: int = 256
    temperature: float = 0.07  # initial softmax temperature (CLIP's)
    learn_temperature: bool = True
    temperature_lr_scale: float = 20.0
    log_q: bool = False  # logQ correction by item frequency (matters when items repeat across pairs)
    hard_negatives: int = 0  # per pair, mined from the pool's index at each epoch; 0 = off
    hard_negative_depth: int = 30  # drawn at random from this many nearest admissible items
    uniform_negatives: int = 0  # per batch, drawn uniformly from the item pool for the side loss; 0 = off
    uniform_weight: float = 0.5  # weight of that side loss
    # lambda of the multi-positive attribute term (issue 19; 0 = off): 0.5 on types lifted category->image on
    # tail types from 0.338 to 0.568 nDCG@10 on the validation split (docs/training.md)
    attribute_weight: float = 0.5
    attribute_fields: tuple[str, ...] = ("type",)  # of recsys.training.attributes.FIELDS
    patience: int = 0  # early stopping: epochs without a better validation recall@10; 0 = off
    val_fraction: float = 0.05  # of non-held-out items, for early stopping and the metrics in config.json
    min_val_pairs: int = 100  # below this, metrics are reported on the training pairs and nothing stops early
    seed: int = 0


@dataclass(frozen=True)
class AttributeGroups:
    """One attribute field of the training rows: ``groups[row]`` = index of its value (-1: none), ``phrases``
    [values, phrasings, text dim] = tower text features of every phrasing of every value."""

    name: str
    groups: torch.Tensor
    phrases: torch.Tensor


@dataclass
class FitData:
    """Training rows, the negative pool and the validation rows, as tensors of cached tower features.

    ``item``/``text_id`` are integer ids per row (same id = same item / same text), used to keep an item's
    own image and exact-duplicate texts out of its negatives.
    """

    image: torch.Tensor
    text: torch.Tensor
    item: np.ndarray
    text_id: np.ndarray
    pool_image: torch.Tensor
    pool_item: np.ndarray
    pool_text_id: np.ndarray
    weights: torch.Tensor | None = None
    log_q: torch.Tensor | None = None
    val_image: torch.Tensor | None = None
    val_text: torch.Tensor | None = None
    attributes: list[AttributeGroups] = field(default_factory=list)  # the multi-positive term's fields


@dataclass
class FitResult:
    heads: ClipHeads
    losses: list[float]
    val_recall: list[float] = field(default_factory=list)  # per epoch, when there are validation rows
    best_epoch: int | None = None
    stopped_early: bool = False


def _optimizer(heads: ClipHeads, config: HeadTrainingConfig) -> tuple[torch.optim.AdamW, list[float]]:
    """Weight decay on matrices only; the temperature gets no decay and a faster rate, or it barely moves."""
    named = [(n, p) for n, p in heads.named_parameters() if n != "logit_scale"]
    groups = [
        {"params": [p for _, p in named if p.ndim >= 2], "weight_decay": config.weight_decay},
        {"params": [p for _, p in named if p.ndim < 2], "weight_decay": 0.0},
    ]
    max_lrs = [config.lr, config.lr]
    if config.learn_temperature:
        groups.append({"params": [heads.logit_scale], "weight_decay": 0.0})
        max_lrs.append(config.lr * config.temperature_lr_scale)
    else:
        heads.logit_scale.requires_grad_(False)
    return torch.optim.AdamW(groups, lr=config.lr), max_lrs


@torch.no_grad()
def _project(heads: ClipHeads, feats: torch.Tensor, image: bool, chunk: int = 4096) -> np.ndarray:
    project = heads.project_image if image else heads.project_text
    return torch.cat([project(feats[s : s + chunk]) for s in range(0, len(feats), chunk)]).numpy()


def validation_recall(heads: ClipHeads, image: torch.Tensor, text: torch.Tensor) -> tuple[float, float]:
    """(recall@10, MRR@10) of text->image among the given pairs."""
    return paired_recall_mrr(_project(heads, text, False), _project(heads, image, True), k=10)


def _mine(heads: ClipHeads, data: FitData, config: HeadTrainingConfig, epoch: int) -> torch.Tensor:
    hard = mine_hard_negatives(
        _project(heads, data.text, False),
        _project(heads, data.pool_image, True),
        data.item,
        data.pool_item,
        data.text_id,
        data.pool_text_id,
        count=config.hard_negatives,
        depth=config.hard_negative_depth,
        seed=config.seed * 1000 + epoch,
    )
    return torch.from_numpy(hard)


def attribute_term(
    heads: ClipHeads,
    fields: list[AttributeGroups],
    idx: torch.Tensor,
    image: torch.Tensor,
    generator: torch.Generator,
    weights: torch.Tensor | None = None,
) -> torch.Tensor | None:
    """Mean over ``fields`` of the multi-positive loss between one phrasing (drawn per step) of each value in the
    batch and the batch's projected ``image`` rows; None when no row of the batch has a value."""
    terms = []
    for attr in fields:
        groups = attr.groups[idx]
        rows = torch.nonzero(groups >= 0).squeeze(1)
        if len(rows) == 0:
            continue
        values, inverse = torch.unique(groups[rows], return_inverse=True)
        pick = torch.randint(0, attr.phrases.shape[1], (len(values),), generator=generator)
        queries = heads.project_text(attr.phrases[values, pick])
        member = torch.zeros(len(values), len(idx), dtype=torch.bool)
        member[inverse, rows] = True
        terms.append(multi_positive_info_nce(queries, image, member, heads.logit_scale, weights=weights))
    return torch.stack(terms).mean() if terms else None


def fit_heads(
    data: FitData,
    model_config: TowerClipConfig,
    config: HeadTrainingConfig,
    *,
    miner: ClipHeads | None = None,
    progress: Progress | None = None,
    on_epoch: EpochEnd | None = None,
    on_step: StepEnd | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FitResult:
    """AdamW with a one-cycle schedule; returns the heads of the last epoch, or of the best one when stopping early.

    Hard negatives are mined before each epoch with the heads being trained; before the first epoch with
    ``miner`` (the serving version's heads, i.e. the current index) when given, else from epoch 2 on.
    ``should_stop`` is asked before each epoch and raises ``TrainingCancelled`` when true; ``on_step`` gets each
    batch's loss (a loss chart that reads from the first epoch).
    """
    torch.manual_seed(config.seed)
    heads = ClipHeads(model_config).train()
    heads.visual.fit_standardisation(data.image)
    heads.text.fit_standardisation(data.text)
    optimizer, max_lrs = _optimizer(heads, config)
    n = len(data.image)
    steps_per_epoch = max(1, -(-n // config.batch_size))
    total_steps = config.epochs * steps_per_epoch
    # OneCycleLR divides by zero when the warm-up is exactly one step (pct_start * total_steps == 1)
    pct_start = 0.15 if abs(0.1 * total_steps - 1) < 1e-6 else 0.1
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lrs, pct_start=pct_start, total_steps=total_steps
    )
    generator = torch.Generator().manual_seed(config.seed)
    pool_item = torch.from_numpy(data.pool_item)
    item = torch.from_numpy(data.item)
    validate = data.val_image is not None and len(data.val_image) > 0
    result = FitResult(heads, [])
    best_state, best_recall, waited = None, -1.0, 0
    step = 0
    if progress is not None:
        progress(0, config.epochs, "training heads")  # the clock for the ETA starts here, after feature caching
    for epoch in range(config.epochs):
        if should_stop is not None and should_stop():
            raise TrainingCancelled(f"cancelled before epoch {epoch + 1} of {config.epochs}")
        epoch_started = time.perf_counter()
        hard = None
        mining_heads = heads if epoch > 0 else miner  # before epoch 1: the serving version's heads, if given
        if config.hard_negatives > 0 and mining_heads is not None:
            hard = _mine(mining_heads.eval(), data, config, epoch)
            heads.train()
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, config.batch_size):
            idx = order[start : start + config.batch_size]
            if len(idx) < 2:  # a lone pair has no negatives
                continue
            text = heads.project_text(data.text[idx])
            image = heads.project_image(data.image[idx])
            weights = None if data.weights is None else data.weights[idx]
            hard_images = None
            if hard is not None:
                rows = hard[idx]
                hard_images = heads.project_image(data.pool_image[rows.reshape(-1)]).view(len(idx), rows.shape[1], -1)
            loss = info_nce_with_negatives(
                text,
                image,
                heads.logit_scale,
                log_q=None if data.log_q is None else data.log_q[idx],
                hard_images=hard_images,
                weights=weights,
            )
            if config.attribute_weight > 0 and data.attributes:
                extra = attribute_term(heads, data.attributes, idx, image, generator, weights)
                if extra is not None:
                    loss = loss + config.attribute_weight * extra
            if config.uniform_negatives > 0:
                draws = torch.randint(0, len(data.pool_image), (config.uniform_negatives,), generator=generator)
                same = item[idx].unsqueeze(1) == pool_item[draws].unsqueeze(0)
                loss = loss + config.uniform_weight * uniform_negative_loss(
                    text,
                    image,
                    heads.project_image(data.pool_image[draws]),
                    heads.logit_scale,
                    same_item=same,
                    weights=weights,
                )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
            step += 1
            if on_step is not None:
                on_step(step, steps_per_epoch, float(loss.detach()))
        result.losses.append(total / n)
        if validate and data.val_image is not None and data.val_text is not None:
            recall, _ = validation_recall(heads.eval(), data.val_image, data.val_text)
            heads.train()
            result.val_recall.append(recall)
            if recall > best_recall:
                best_recall, best_state, waited = recall, copy.deepcopy(heads.state_dict()), 0
                result.best_epoch = epoch + 1
            else:
                waited += 1
        if on_epoch is not None:
            on_epoch(epoch + 1, result.losses[-1], n / max(time.perf_counter() - epoch_started, 1e-9))
        if progress is not None:
            progress(epoch + 1, config.epochs, "training heads")
        if validate and config.patience > 0 and waited >= config.patience:
            result.stopped_early = epoch + 1 < config.epochs  # stopping after the last epoch is not early
            break
    if validate and config.patience > 0 and best_state is not None:
        heads.load_state_dict(best_state)  # early stopping keeps the best validation epoch
    heads.eval()
    return result
