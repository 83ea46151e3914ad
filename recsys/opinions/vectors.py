"""Sentence vectors from a text model the project ships, cached on disk.

Two kinds of model, named by hub id (``settings.opinion_text_model``):

* a sentence-transformers id (MiniLM, the default ``settings.text_model``): ``LazyTextEncoder``, English;
* one of ``recsys.encoders.multilingual.MULTILINGUAL_MODELS`` (USE multilingual v3, multilingual e5-small): the
  multilingual encoder's ``encode_items`` (passage side), so Chinese review sentences land near English ones of
  the same meaning and an opinion model trained on English reviews reads them too.

The cache is keyed by (model name, sentence) (the multilingual side under ``<id>#items``, the key the multilingual
benchmarks use for the same vectors), so classifying a catalog again after a restart, or a review added later,
encodes only sentences never seen before. The model loads on the first sentence that is not cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recsys.encoders.multilingual import MULTILINGUAL_MODELS, MultilingualTextEncoder
from recsys.encoders.text import LazyTextEncoder
from recsys.ranking.embedding_cache import CachedTextEncoder, TextEncoderLike

SMALL_BATCH = 32  # at most this many new sentences skip the disk cache (see encode)


def is_multilingual(model_name: str) -> bool:
    return model_name in MULTILINGUAL_MODELS


class LazyMultilingualEncoder:
    """``encode(texts)`` -> the multilingual encoder's item-side unit vectors; the model loads on the first call."""

    def __init__(self, model_name: str, batch_size: int = 64, threads: int = 2) -> None:
        if not is_multilingual(model_name):
            raise ValueError(f"{model_name!r} is not one of the multilingual models {MULTILINGUAL_MODELS}")
        self.model_name, self.batch_size, self.threads = model_name, batch_size, threads
        self._encoder: MultilingualTextEncoder | None = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = MultilingualTextEncoder(self.model_name, threads=self.threads, batch_size=self.batch_size)
        return self._encoder.encode_items(list(texts))


def cache_key(model_name: str) -> str:
    """The disk cache's model key: the hub id, or ``<id>#items`` for a multilingual model (its item side)."""
    return f"{model_name}#items" if is_multilingual(model_name) else model_name


class SentenceVectors:
    """``encode(sentences) -> float32 [n, dim]`` unit vectors; ``dim`` is known once one batch is encoded."""

    def __init__(self, model_name: str, cache_dir: Path, device: str = "auto", batch_size: int = 64) -> None:
        self.model_name = model_name
        self._lazy: TextEncoderLike = (
            LazyMultilingualEncoder(model_name, batch_size)
            if is_multilingual(model_name)
            else LazyTextEncoder(model_name, device, batch_size)
        )
        self._cached = CachedTextEncoder(self._lazy, cache_dir, model_name=cache_key(model_name))
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
