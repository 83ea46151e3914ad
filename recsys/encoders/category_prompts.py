"""Prompt ensembles for short category queries: a bare type name ("Tshirts") is a thin text, so the query
vector is the mean of the joint-space vectors of a few phrasings of it (CLIP's prompt-ensemble trick)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TEMPLATES = ("{}", "a photo of {}", "a product photo of {}", "{} for men and women", "fashion: {}")


def prompt_texts(names: Sequence[str], templates: Sequence[str] = TEMPLATES) -> list[str]:
    """Every template for every name, name-major (name 0 in every template, then name 1, ...)."""
    if not templates:
        raise ValueError("prompt_texts: at least one template is needed")
    return [t.format(name) for name in names for t in templates]


def ensemble(vectors: np.ndarray, per_name: int) -> np.ndarray:
    """Mean of each name's ``per_name`` consecutive rows, L2-normalised (rows in ``prompt_texts`` order)."""
    if per_name <= 0 or len(vectors) % per_name:
        raise ValueError(f"ensemble: {len(vectors)} rows are not a whole number of groups of {per_name}")
    mean = vectors.reshape(len(vectors) // per_name, per_name, vectors.shape[1]).mean(axis=1)
    norm = np.linalg.norm(mean, axis=1, keepdims=True)
    return mean / np.maximum(norm, 1e-12)
