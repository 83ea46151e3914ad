"""Grid search of the blend (decay, alpha, beta) on a validation split, and the two selection rules.

- ``best``: highest validation Recall@n (the accuracy-first setting).
- ``debiased``: among settings whose validation Recall@n is within one standard error of the best (the
  one-standard-error rule), the highest validation tail recall: tail lift that costs no measurable recall.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from scipy import sparse

from recsys.recommend.candidates import CandidateBlend, own_items
from recsys.recommend.hypergraph import (
    HypergraphRecommender,
    propagated_part,
    repeat_part,
)
from recsys.recommend.topn import preference_order


def head_mask(counts: np.ndarray, fraction: float = 0.2) -> np.ndarray:
    """True for the top ``fraction`` of items that occur (count > 0), ties to the lower index."""
    counts = np.asarray(counts)
    occurring = np.flatnonzero(counts > 0)
    ranked = occurring[np.lexsort((occurring, -counts[occurring]))]
    mask = np.zeros(counts.size, dtype=bool)
    mask[ranked[: int(np.ceil(fraction * occurring.size))]] = True
    return mask


def recall_parts(top: np.ndarray, truth: np.ndarray, tail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-user Recall@n and tail-item Recall@n (nan where the user has no target / no tail target).

    ``truth`` is the dense boolean users x items target matrix (built once per grid, not per setting).
    """
    hit = np.take_along_axis(truth, top, axis=1)
    n_true, n_tail = truth.sum(axis=1), truth[:, tail].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(n_true > 0, hit.sum(axis=1) / n_true, np.nan)
        tail_recall = np.where(n_tail > 0, (hit & tail[top]).sum(axis=1) / n_tail, np.nan)
    return recall, tail_recall


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    values = values[~np.isnan(values)]
    if values.size < 2:
        return float(values.mean()) if values.size else float("nan"), 0.0
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def grid(
    model: HypergraphRecommender,
    repeat_for: Callable[[float], sparse.csr_matrix],
    targets: sparse.csr_matrix,
    tail: np.ndarray,
    decays: Iterable[float],
    alphas: Iterable[float],
    betas: Iterable[float],
    n: int = 20,
) -> list[dict]:
    """One row per setting: recall, its standard error, tail recall, coverage (share of items recommended)."""
    order = preference_order(model.popularity)
    truth = targets.toarray() > 0
    alphas = list(alphas)
    rows = []
    for decay in decays:
        user_items = repeat_for(decay)
        repeat, own, propagated = repeat_part(user_items), own_items(user_items), model.propagate(user_items)
        for alpha in alphas:
            ranker = CandidateBlend(repeat, own, propagated_part(propagated, model.popularity, alpha), order, n)
            for beta in betas:
                if beta == 0 and alpha != alphas[0]:
                    continue  # without propagation alpha changes nothing
                top = ranker.top(beta)
                recall, tail_recall = recall_parts(top, truth, tail)
                mean, se = _mean_se(recall)
                rows.append(
                    {
                        "decay": decay,
                        "alpha": alpha,
                        "beta": beta,
                        "recall": mean,
                        "recall_se": se,
                        "tail_recall": _mean_se(tail_recall)[0],
                        "coverage": np.unique(top).size / model.n_items,
                    }
                )
    return rows


def select(rows: list[dict]) -> dict[str, dict]:
    best = max(rows, key=lambda r: (r["recall"], r["tail_recall"]))
    near = [r for r in rows if r["recall"] >= best["recall"] - best["recall_se"]]
    debiased = max(near, key=lambda r: (r["tail_recall"], r["recall"]))
    return {"best": best, "debiased": debiased}
