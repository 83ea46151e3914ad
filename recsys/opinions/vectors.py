"""Sentence vectors from the text model the project ships (MiniLM, or the hub id in settings), cached on disk.

The cache is keyed by (model name, sentence), so classifying a catalog again after a restart, or a review added
later, encodes only sentences never seen before. The transformer loads on the first sentence that is not cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recsys.encoders.text import LazyTextEncoder
from recsys.ranking.embedding_cache import CachedTextEncoder

SMALL_BATCH = 32  # at most this many new sentences skip the disk cache (see encode)


class SentenceVectors:
    """``encode(sentences) -> float32 [n, dim]`` unit vectors; ``dim`` is known once one batch is encoded."""

    def __init__(self, model_name: str, cache_dir: Path, device: str = "auto", batch_size: int = 64) -> None:
        self.model_name = model_name
        self._lazy = LazyTextEncoder(model_name, device, batch_size)
        self._cached = CachedTextEncoder(self._lazy, cache_dir, model_name=model_name)
        self._recent: dict[str, np.ndarray] = {}  # sentences of single posted reviews, not written to disk

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        if len(sentences) == 0:
            return np.zeros((0, 0), dtype=np.float32)
        missing = [s for s in dict.fromkeys(sentences) if s not in self._recent and not self._cached.contains(s)]
        if 0 < len(missing) <= SMALL_BATCH:
            # One posted review: the disk cache is rewritten whole on every growth (~100k rows on the demo), which
            # costs seconds; a few sentences are encoded and kept in memory instead.
            self._recent.update(zip(missing, self._lazy.encode(missing)))
        if all(s in self._recent for s in sentences):
            return np.stack([self._recent[s] for s in sentences]).astype(np.float32, copy=False)
        rows = [s for s in sentences if s not in self._recent]
        cached = dict(zip(rows, self._cached.encode(rows))) if rows else {}
        return np.stack([self._recent[s] if s in self._recent else cached[s] for s in sentences]).astype(np.float32)
