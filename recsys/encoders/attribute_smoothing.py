"""Attribute hyperedge smoothing of item vectors (issue 19): every value of a catalog attribute (article type,
colour, gender) is a hyperedge over the items that have it, and each item vector moves toward the centroids of
its hyperedges, so an item of a type with 5 items borrows from the other four and from its colour and gender
neighbours. Applied to the index's item vectors (the corpus's own groups), never to queries.

    v'_i = unit(v_i + alpha * mean over i's edges e of w_e * unit(centroid_e)),  w_e = 1 or 1/sqrt(|e|)

numpy in, numpy out; rows are expected L2-normalised."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

WEIGHTINGS = (
    "uniform",
    "inverse_sqrt",
)  # inverse_sqrt: small groups pull harder than big ones (their centroid is closer to each member)


@dataclass(frozen=True)
class Smoothing:
    """Which hyperedges smooth the index's item vectors, and how hard. Default: chosen on the validation split
    (docs/training.md, issue 19): the type edge alone, alpha 2 (colour and gender edges dilute the type pull and
    helped category queries less; inverse_sqrt weighting less than uniform)."""

    fields: tuple[str, ...] = ("type",)
    alpha: float = 2.0
    weighting: str = "uniform"

    def to_dict(self) -> dict:
        return asdict(self)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def smooth(
    vectors: np.ndarray,
    groups: Mapping[str, Sequence[str]],
    alpha: float,
    weighting: str = "uniform",
) -> np.ndarray:
    """Smoothed unit rows of ``vectors``. ``groups`` maps a field to each row's value ("" = none); alpha 0 gives
    the rows back unchanged. Each row's pull is the mean over the edges it is in, so a field it lacks does not
    dilute the others."""
    if alpha < 0:
        raise ValueError(f"smoothing alpha must be >= 0 (got {alpha})")
    if weighting not in WEIGHTINGS:
        raise ValueError(f"smoothing weighting must be one of {', '.join(WEIGHTINGS)} (got {weighting!r})")
    n = len(vectors)
    bad = {f: len(v) for f, v in groups.items() if len(v) != n}
    if bad:
        raise ValueError(f"smoothing groups must have one value per row ({n}); got {bad}")
    vectors = np.asarray(vectors, dtype=np.float32)
    if alpha == 0 or not groups or n == 0:
        return vectors.copy()
    pull = np.zeros_like(vectors)
    edges = np.zeros(n, dtype=np.float32)
    for values in groups.values():
        labels = np.asarray(values, dtype=object)
        present = labels != ""
        if not present.any():
            continue
        names, inverse, sizes = np.unique(labels[present], return_inverse=True, return_counts=True)
        sums = np.zeros((len(names), vectors.shape[1]), dtype=np.float64)
        np.add.at(sums, inverse, vectors[present])
        centroids = _unit(sums).astype(np.float32)
        weight = 1.0 if weighting == "uniform" else 1.0 / np.sqrt(sizes[inverse])[:, None]
        pull[present] += weight * centroids[inverse]
        edges[present] += 1
    has = edges > 0
    pull[has] /= edges[has, None]
    return _unit(vectors + alpha * pull).astype(np.float32)
