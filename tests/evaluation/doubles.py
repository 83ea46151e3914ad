"""A fast, deterministic stand-in for MiniLM in data-heavy tests: hashed bag of words, unit length.

Encoding 19k reviews with MiniLM takes many minutes on 2 CPU cores, so slow tests use this double to check
the pipelines end to end on real data; the MiniLM numbers themselves come from ``recsys eval`` runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer


class HashingTextEncoder:
    model_name = "test-hashing-bow"

    def __init__(self, dim: int = 384) -> None:
        self._vectorizer = HashingVectorizer(n_features=dim, alternate_sign=False, norm="l2")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._vectorizer.transform([t or "" for t in texts]).toarray().astype(np.float32)
