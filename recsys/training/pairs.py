"""Training pairs and the per-pair terms of the contrastive loss (long-tail weights, logQ), one definition for
head training and tower fine-tuning."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from recsys.encoders.feature_cache import ImageSource
from recsys.training.attributes import Attributes


@dataclass(frozen=True)
class TrainingPair:
    external_id: str
    text: str  # use recsys.encoders.content.clip_text so training matches item vectors
    image: ImageSource
    attributes: Attributes = ()  # (field, value) of the item's type/colour/gender: the multi-positive groups


PairValues = Callable[[Sequence[TrainingPair]], np.ndarray]  # one value per (kept) pair, in order
EpochEnd = Callable[[int, float, float], None]  # (epoch number from 1, mean loss, training pairs per second)
StepEnd = Callable[[int, int, float], None]  # (step number from 1 over the run, steps per epoch, the batch's loss)


def item_log_q(kept: Sequence[TrainingPair]) -> torch.Tensor:
    """Per-pair log sampling probability of its item: the item's share of the pair stream."""
    counts: dict[str, int] = {}
    for p in kept:
        counts[p.external_id] = counts.get(p.external_id, 0) + 1
    per_pair = torch.tensor([counts[p.external_id] for p in kept], dtype=torch.float32)
    return torch.log(per_pair / len(kept))


def pair_terms(
    kept: Sequence[TrainingPair],
    train_rows: Sequence[int],
    *,
    log_q: bool,
    pair_log_q: PairValues | None = None,
    pair_weights: PairValues | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(loss weight, log q) per kept pair, or None for each term that is off.

    logQ defaults to the item's share of the pairs (``item_log_q``). Weights are scaled to mean 1 over the
    training rows, so the loss keeps its scale and the learning rate its meaning.
    """
    q = None
    if log_q:
        q = item_log_q(kept) if pair_log_q is None else torch.as_tensor(pair_log_q(kept), dtype=torch.float32)
    weights = None
    if pair_weights is not None:
        weights = torch.as_tensor(np.asarray(pair_weights(kept), dtype=np.float32))
        weights = weights / weights[list(train_rows)].mean()
    return weights, q
