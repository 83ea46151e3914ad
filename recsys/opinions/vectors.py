"""Sentence vectors from the text model the project ships (MiniLM, or the hub id in settings), cached on disk.

The cache is keyed by (model name, sentence), so classifying a catalog again after a restart, or a review added
later, encodes only sentences never seen before. The transformer loads on the first sentence that is not cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recsys.encoders.text import TextEncoder
from recsys.ranking.embedding_cache import CachedTextEncoder, _key

SMALL_BATCH = 32  # at most this many new sentences skip the disk cache (see encode)


class _Lazy:
    def __init__(self, model_name: str, device: str, batch_size: int) -> None:
        self.model_name, self.device, self.batch_size = model_name, device, batch_size
        self._encoder: TextEncoder | None = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = TextEncoder(self.model_name, self.device, batch_size=self.batch_size)
        # similar lengths share a batch, so little of each batch is padding (review sentences vary 3-400 chars)
        order = np.argsort([len(t) for t in texts], kind="stable")
        vectors = self._encoder.encode([texts[i] for i in order])
        out = np.empty_like(vectors)
        out[order] = vectors
        return out


class SentenceVectors:
    """``encode(sentences) -> float32 [n, dim]`` unit vectors; ``dim`` is known once one batch is encoded."""

    def __init__(self, model_name: str, cache_dir: Path, device: str = "auto", batch_size: int = 64) -> None:
        self.model_name = model_name
        self._lazy = _Lazy(model_name, device, batch_size)
        self._cached = CachedTextEncoder(self._lazy, cache_dir, model_name=model_name)
        self._recent: dict[str, np.ndarray] = {}  # sentences of single posted reviews, not written to disk

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        if len(sentences) == 0:
            return np.zeros((0, 0), dtype=np.float32)
        missing = [s for s in dict.fromkeys(sentences) if s not in self._recent and _key(s) not in self._cached._rows]
        if 0 < len(missing) <= SMALL_BATCH:
            # One posted review: the disk cache is rewritten whole on every growth (~100k rows on the demo), which
            # costs seconds; a few sentences are encoded and kept in memory instead.
            self._recent.update(zip(missing, self._lazy.encode(missing)))
        if all(s in self._recent for s in sentences):
            return np.stack([self._recent[s] for s in sentences]).astype(np.float32, copy=False)
        rows = [s for s in sentences if s not in self._recent]
        cached = dict(zip(rows, self._cached.encode(rows))) if rows else {}
        return np.stack([self._recent[s] if s in self._recent else cached[s] for s in sentences]).astype(np.float32)
