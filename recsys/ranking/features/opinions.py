"""Review opinion features: per aspect, the item's shrunk share of praise (``recsys/opinions``).

Shrunk toward the catalog's share of the aspect (``opinions/shrinkage.py``), so an item with two reviews sits near
the catalog instead of at 0 or 1; an item without mentions gets the prior itself, and without an opinion index the
columns are NaN (missing, for LightGBM). Columns are the packaged aspects only: a ranker's columns are fixed when
it is trained, while a merchant's added aspects come and go.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from recsys.opinions.aspects import PACKAGED, read_aspects

ASPECT_KEYS: tuple[str, ...] = tuple(a.key for a in read_aspects(PACKAGED))
NAMES: tuple[str, ...] = (*(f"opinion_{k}_praise" for k in ASPECT_KEYS), "opinion_mentions_log")


class OpinionSource(Protocol):
    """What the features read from ``recsys.opinions.index.OpinionIndex`` (the service's live index)."""

    def shrunk_shares(self, item_ids: Sequence[int], aspect_keys: Sequence[str]) -> np.ndarray: ...

    def mention_counts(self, item_ids: Sequence[int]) -> np.ndarray: ...


def opinion_inputs(
    source: OpinionSource | None, item_ids: Sequence[int] | np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(shrunk shares [n, len(ASPECT_KEYS)], mention counts [n])`` for ``ItemStats``; (None, None) without an
    index. The one reader of the index for the ranker: serving and training call it, so they fill the same values."""
    if source is None:
        return None, None
    ids = [int(i) for i in item_ids]
    return source.shrunk_shares(ids, ASPECT_KEYS), source.mention_counts(ids)


def opinion_features(shrunk_shares: np.ndarray | None, mention_counts: np.ndarray | None, n: int) -> np.ndarray:
    """float32 [n, len(NAMES)] from ``OpinionIndex.shrunk_shares(ids, ASPECT_KEYS)`` and ``mention_counts(ids)``."""
    out = np.full((n, len(NAMES)), np.nan, dtype=np.float32)
    if shrunk_shares is not None:
        shares = np.asarray(shrunk_shares, dtype=np.float32)
        if shares.shape != (n, len(ASPECT_KEYS)):
            raise ValueError(f"expected shares of shape {(n, len(ASPECT_KEYS))}, got {shares.shape}")
        out[:, : len(ASPECT_KEYS)] = shares
    if mention_counts is not None:
        counts = np.asarray(mention_counts, dtype=np.float32).reshape(-1)
        if counts.shape[0] != n:
            raise ValueError(f"expected {n} mention counts, got {counts.shape[0]}")
        out[:, -1] = np.log1p(counts)
    return out
