"""Disk cache of text embeddings keyed by (model, text), so repeated training runs encode nothing twice.

MiniLM on a shared 2-core CPU needs minutes for the ~14k CrowdFlower texts; the cache makes reruns instant.
The cache holds one ``.npz`` per model: sha1 keys and float32 rows, rewritten atomically when it grows.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class TextEncoderLike(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachedTextEncoder:
    """Wraps any ``encode(texts) -> float32 [n, dim]`` encoder with a persistent per-text cache."""

    def __init__(self, encoder: TextEncoderLike, cache_dir: Path, model_name: str | None = None) -> None:
        self.encoder = encoder
        fallback: str = getattr(encoder, "model_name", type(encoder).__name__)
        self.path = Path(cache_dir) / f"text-emb-{_key(model_name or fallback)[:12]}.npz"
        self._rows: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as data:
                self._rows = dict(zip(data["keys"].tolist(), data["vecs"]))

    def contains(self, text: str) -> bool:
        """Whether ``text``'s vector is cached (encoding it would not call the encoder)."""
        return _key(text or "") in self._rows

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [_key(t or "") for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._rows))
        if missing:
            first_text = {k: t or "" for k, t in zip(keys, texts)}
            vecs = self.encoder.encode([first_text[k] for k in missing])
            self._rows.update(zip(missing, np.asarray(vecs, dtype=np.float32)))
            self._save()
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._rows[k] for k in keys]).astype(np.float32, copy=False)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        os.close(fd)
        np.savez(tmp, keys=np.array(list(self._rows)), vecs=np.stack(list(self._rows.values())))
        os.replace(tmp, self.path)
