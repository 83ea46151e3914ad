"""TailLift methods for the instacart next-basket suite: tune on validation, refit on fit, recommend.

Hyperedges: fit baskets (orders), aisles and departments from products.csv, and each user's history.
Everything tuned (decay, alpha, beta) is chosen on ``validation.carve`` of the fit history only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from recsys.recommend import baskets, tuning, validation
from recsys.recommend.hypergraph import HypergraphRecommender
from recsys.recommend.repeat import repeat_matrix

DECAYS = (1.0, 0.8, 0.6)
ALPHAS = (0.0, 0.25, 0.5, 1.0)
BETAS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)
HEAD_FRACTION = 0.2


@dataclass(frozen=True)
class MethodRun:
    recommendations: dict[int, list]  # user -> k product ids, best first
    notes: str
    seconds: dict[str, float]
    setting: dict  # the chosen validation row


def _fit(lines: pd.DataFrame, catalog: np.ndarray, categories: dict) -> HypergraphRecommender:
    users = np.unique(lines["user_id"].to_numpy())
    groups = {"basket": baskets.basket_incidence(lines, catalog), **categories}
    return HypergraphRecommender().fit(baskets.user_item_counts(lines, users, catalog), groups)


def target_matrix(targets: dict[int, frozenset], users: np.ndarray, catalog: np.ndarray) -> sparse.csr_matrix:
    """users x items, 1 for each product of the user's target basket (rows follow sorted ``users``)."""
    frame = pd.DataFrame([(u, p) for u in users for p in targets.get(int(u), ())], columns=["user_id", "product_id"])
    frame["order_id"] = frame["user_id"]
    return baskets.user_item_counts(frame, users, catalog)


def validation_grid(
    fit: pd.DataFrame, histories: dict[int, pd.DataFrame], catalog: np.ndarray, categories: dict, k: int
) -> tuple[list[dict], frozenset]:
    """Every grid row on the validation split, and the validation target orders (for leakage checks)."""
    split = validation.carve(fit, histories)
    users = np.array(sorted(split.targets))
    model = _fit(split.fit, catalog, categories)
    tail = ~tuning.head_mask(model.popularity, HEAD_FRACTION)
    rows = tuning.grid(
        model,
        lambda d: repeat_matrix(split.history, users, catalog, d),
        target_matrix(split.targets, users, catalog),
        tail,
        DECAYS,
        ALPHAS,
        BETAS,
        k,
    )
    return rows, split.target_orders


def taillift_methods(
    fit: pd.DataFrame,
    histories: dict[int, pd.DataFrame],
    users: list[int],
    catalog: np.ndarray,
    products_csv: Path,
    k: int,
    evaluated_orders: frozenset = frozenset(),
) -> dict[str, MethodRun]:
    """{"taillift_hypergraph": ..., "taillift_hypergraph_debiased": ...} for ``users`` (sorted ids)."""
    start = time.perf_counter()
    categories = baskets.category_incidence(products_csv, catalog)
    rows, val_orders = validation_grid(fit, histories, catalog, categories, k)
    if val_orders & evaluated_orders:
        raise AssertionError("validation targets overlap the evaluated target orders")
    chosen = tuning.select(rows)
    model = _fit(fit, catalog, categories)
    fit_seconds = time.perf_counter() - start
    user_ids = np.array(sorted(users))
    lines = pd.concat(list(histories.values()), ignore_index=True) if histories else fit.iloc[:0]
    out = {}
    for rule, name in (("best", "taillift_hypergraph"), ("debiased", "taillift_hypergraph_debiased")):
        setting = chosen[rule]
        start = time.perf_counter()
        user_items = repeat_matrix(lines, user_ids, catalog, setting["decay"])
        model.alpha, model.beta = setting["alpha"], setting["beta"]
        top, _ = model.recommend(np.arange(user_ids.size), user_items, n=k)
        recs = {int(u): [int(i) for i in catalog[row]] for u, row in zip(user_ids, top)}
        notes = (
            f"{rule} on validation (each user's 2nd-to-last order; {len(rows)} settings): decay "
            f"{setting['decay']}, alpha {setting['alpha']}, beta {setting['beta']}; val recall "
            f"{setting['recall']:.4f}, val tail recall {setting['tail_recall']:.4f}; hyperedges "
            + ", ".join(f"{g} {n}" for g, n in model.incidence.group_sizes.items())
        )
        out[name] = MethodRun(
            recs, notes, {"fit": round(fit_seconds, 3), "score": round(time.perf_counter() - start, 3)}, setting
        )
    return out
