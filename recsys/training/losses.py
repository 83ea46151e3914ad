"""Contrastive losses for dual encoders: symmetric InfoNCE with an optional logQ (sampling-bias) correction.

In-batch negatives over-represent popular items: an item seen often is a negative often, and the model learns
to push it down. Subtracting log q_j (the item's sampling probability) from every logit of column j, as in
Yi et al. 2019 ("Sampling-bias-corrected neural modeling"), removes that bias from the softmax.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_LOGIT_SCALE = math.log(100.0)  # CLIP's clamp: temperature never below 0.01


def log_q_from_counts(counts: torch.Tensor) -> torch.Tensor:
    """Log sampling probability of each item from how often it occurs in the training stream."""
    counts = counts.to(torch.float32).clamp(min=1.0)
    return torch.log(counts / counts.sum())


def contrastive_logits(a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor,
                       log_q: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(a->b logits, b->a logits) for unit rows a[i] ~ b[i]; log_q[j] is subtracted from column j of both."""
    scale = logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
    logits = scale * a @ b.T
    a_to_b, b_to_a = logits, logits.T
    if log_q is not None:
        # Columns of both directions name the same in-batch items, so both get the item's correction.
        a_to_b = a_to_b - log_q.unsqueeze(0)
        b_to_a = b_to_a - log_q.unsqueeze(0)
    return a_to_b, b_to_a


def symmetric_info_nce(a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor,
                       log_q: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of the a->b and b->a cross-entropies with the diagonal as the positives."""
    a_to_b, b_to_a = contrastive_logits(a, b, logit_scale, log_q)
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(a_to_b, target) + F.cross_entropy(b_to_a, target))
