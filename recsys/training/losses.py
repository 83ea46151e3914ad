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


def contrastive_logits(
    a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor, log_q: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(a->b logits, b->a logits) for unit rows a[i] ~ b[i]; log_q[j] is subtracted from column j of both."""
    scale = logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
    logits = scale * a @ b.T
    a_to_b, b_to_a = logits, logits.T
    if log_q is not None:
        # Columns of both directions name the same in-batch items, so both get the item's correction.
        a_to_b = a_to_b - log_q.unsqueeze(0)
        b_to_a = b_to_a - log_q.unsqueeze(0)
    return a_to_b, b_to_a


def symmetric_info_nce(
    a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor, log_q: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean of the a->b and b->a cross-entropies with the diagonal as the positives."""
    a_to_b, b_to_a = contrastive_logits(a, b, logit_scale, log_q)
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(a_to_b, target) + F.cross_entropy(b_to_a, target))


def _weighted_mean(per_row: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    return per_row.mean() if weights is None else (weights * per_row).sum() / weights.sum()


def info_nce_with_negatives(
    text: torch.Tensor,
    image: torch.Tensor,
    logit_scale: torch.Tensor,
    *,
    log_q: torch.Tensor | None = None,
    hard_images: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Symmetric InfoNCE where each text also faces its own mined hard-negative images.

    ``hard_images`` [B, K, d] are appended to row i of the text->image softmax only (they are not in-batch items,
    so they get no logQ correction and no image->text row). ``weights`` [B] weight each pair's two
    cross-entropies; without extras this equals ``symmetric_info_nce``.
    """
    a_to_b, b_to_a = contrastive_logits(text, image, logit_scale, log_q)
    if hard_images is not None and hard_images.shape[1] > 0:
        scale = logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
        a_to_b = torch.cat([a_to_b, scale * torch.einsum("bd,bkd->bk", text, hard_images)], dim=1)
    target = torch.arange(text.shape[0], device=text.device)
    per_pair = 0.5 * (
        F.cross_entropy(a_to_b, target, reduction="none") + F.cross_entropy(b_to_a, target, reduction="none")
    )
    return _weighted_mean(per_pair, weights)


def uniform_negative_loss(
    text: torch.Tensor,
    image: torch.Tensor,
    negatives: torch.Tensor,
    logit_scale: torch.Tensor,
    *,
    same_item: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Side loss: text i against its image and M images drawn uniformly from the whole item pool.

    In-batch negatives follow the training stream (popular items and types are negatives more often); uniform
    negatives give every item, tail included, the same chance (Yang et al. 2020, mixed negative sampling).
    ``same_item`` [B, M] masks draws that are row i's own item. Uniform draws need no logQ correction.
    """
    scale = logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
    positive = scale * (text * image).sum(dim=1, keepdim=True)
    negative = scale * text @ negatives.T
    if same_item is not None:
        negative = negative.masked_fill(same_item, float("-inf"))
    logits = torch.cat([positive, negative], dim=1)
    per_row = F.cross_entropy(logits, torch.zeros(len(text), dtype=torch.long, device=text.device), reduction="none")
    return _weighted_mean(per_row, weights)


def multi_positive_info_nce(
    queries: torch.Tensor,
    items: torch.Tensor,
    member: torch.Tensor,
    logit_scale: torch.Tensor,
    *,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Supervised (multi-positive) symmetric InfoNCE between group phrases and items (Khosla et al. 2020).

    ``queries`` [G, d] are unit vectors of G group phrases ("a photo of Sweaters"), ``items`` [B, d] unit item
    vectors, ``member`` [G, B] bool: item j belongs to group g. Query->items: each phrase against every item, the
    mean log-probability of its members (every member is a positive); item->queries: each item against the G
    phrases, its own group the positive (items in no group are left out; an item must be in at most one group of
    ``queries``, i.e. one field at a time). ``weights`` [B] weight the item rows. With singleton groups (member =
    identity) this is ``symmetric_info_nce``.
    """
    if member.shape != (len(queries), len(items)):
        raise ValueError(f"member mask is {tuple(member.shape)}, expected ({len(queries)}, {len(items)})")
    if bool((member.sum(0) > 1).any()):
        raise ValueError("an item is in more than one group of one field")
    scale = logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
    logits = scale * queries @ items.T
    positives = member.to(logits.dtype)
    has = positives.sum(1) > 0
    log_prob = logits.log_softmax(dim=1)
    to_items = -(log_prob * positives).sum(1)[has] / positives.sum(1)[has]
    grouped = member.any(0)
    to_queries = F.cross_entropy(logits.T[grouped], member.T[grouped].float().argmax(1), reduction="none")
    row_weights = None if weights is None else weights[grouped]
    return 0.5 * (to_items.mean() + _weighted_mean(to_queries, row_weights))
