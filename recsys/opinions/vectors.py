"""Sentence vectors from the text model the project ships (MiniLM, or the hub id in settings), cached on disk.

The cache is keyed by (model name, sentence), so classifying a catalog again after a restart, or a review added
later, encodes only sentences never seen before. The transformer loads on the first sentence that is not cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recsys.encoders.text import TextEncoder
from recsys.ranking.embedding_cache import CachedTextEncoder


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
        self._cached = CachedTextEncoder(_Lazy(model_name, device, batch_size), cache_dir, model_name=model_name)

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        if len(sentences) == 0:
            return np.zeros((0, 0), dtype=np.float32)
        return self._cached.encode(list(sentences))
