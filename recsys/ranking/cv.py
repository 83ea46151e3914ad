"""Grouped cross-validation with a documented hyper-parameter grid, then refit and versioned save.

Folds are GroupKFold by query: every row of a query lands in the same fold, so a score always measures
queries the model never saw (the case that matters for a search engine). Each configuration of the grid
trains one model per fold and records each fold's validation nDCG@10 after every round; the round count is
the argmax of the fold-averaged curve (early stopping on the mean, as lgb.cv does), and the configuration's
score is the per-fold nDCG@10 at that round (slightly optimistic, equally so for every configuration). The
chosen configuration is refit on all rows for that many rounds. A full grid search (optuna is not
installed) keeps every configuration's mean ± std visible in the result.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from recsys.ranking.ndcg import ndcg_per_query
from recsys.ranking.ranker import JUDGMENTS, LambdaRanker, new_version_dir

log = logging.getLogger(__name__)

# 3 x 2 x 2 x 2 = 24 configurations: tree size, step size, leaf support and column subsampling, the four
# knobs that matter most with ~150 queries. Wider grids overfit the CV itself at this data size.
DEFAULT_GRID: dict[str, list[Any]] = {
    "num_leaves": [7, 15, 31],
    "learning_rate": [0.03, 0.1],
    "min_data_in_leaf": [10, 40],
    "feature_fraction": [0.5, 0.9],
}

# The round count is searched from here on: after ~5 trees about half the candidates of a CrowdFlower query
# still share a score (measured), so an early peak of the validation curve is luck, and such models did
# worse on unseen queries than their CV score promised.
MIN_ROUNDS = 30


@dataclass
class ConfigResult:
    params: dict[str, Any]
    fold_ndcg: list[float] = field(default_factory=list)
    best_iterations: list[int] = field(default_factory=list)  # the shared round count, once per fold

    @property
    def mean(self) -> float:
        return float(np.mean(self.fold_ndcg))

    @property
    def std(self) -> float:
        return float(np.std(self.fold_ndcg))


@dataclass
class CVResult:
    results: list[ConfigResult]
    best: ConfigResult
    ranker: LambdaRanker

    def table(self) -> str:
        rows = sorted(self.results, key=lambda r: -r.mean)
        return "\n".join(
            f"{r.mean:.4f} ± {r.std:.4f}  iters={int(np.mean(r.best_iterations)):4d}  {r.params}" for r in rows
        )


def sort_by_query(query_ids: np.ndarray | Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row order making each query contiguous, query code per sorted row, group sizes in order)."""
    codes, _ = pd.factorize(pd.Series(list(query_ids)))
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    return order, sorted_codes, np.bincount(sorted_codes)


def query_folds(query_codes: np.ndarray, n_splits: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold by query code; row indices stay sorted, so queries stay contiguous inside each part."""
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    dummy = np.zeros(len(query_codes))
    return [(np.sort(tr), np.sort(va)) for tr, va in splitter.split(dummy, groups=query_codes)]


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def _groups(codes: np.ndarray) -> np.ndarray:
    return np.unique(codes, return_counts=True)[1]  # codes are sorted, so this is appearance order


def _fold_curves(
    X: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    folds: list,
    params: dict[str, Any],
    feature_names: Sequence[str],
    max_rounds: int,
) -> tuple[np.ndarray, list[LambdaRanker]]:
    """Validation nDCG@10 after every boosting round, one row per fold: [n_folds, max_rounds]."""
    curves, models = [], []
    for tr, va in folds:
        record: dict[str, Any] = {}
        model = LambdaRanker(tuple(feature_names), params, max_rounds).fit(
            X[tr], y[tr], _groups(codes[tr]), valid=(X[va], y[va], _groups(codes[va])), record=record
        )
        curves.append(record["valid_0"]["ndcg@10"])
        models.append(model)
    return np.asarray(curves), models


def grid_search_cv(
    X: np.ndarray,
    y: np.ndarray,
    query_ids: np.ndarray | Sequence[Any],
    feature_names: Sequence[str],
    *,
    grid: Mapping[str, Sequence[Any]] = DEFAULT_GRID,
    n_splits: int = 5,
    seed: int = 0,
    max_rounds: int = 300,
    progress: Callable[[int, int], None] | None = None,
) -> CVResult:
    """Cross-validate every grid configuration, refit the best on all rows; rows may come in any order.

    The number of rounds is chosen per configuration on the fold-averaged validation curve (as lgb.cv
    does), not per fold: one fold's own best iteration is noisy and flatters that fold.
    """
    order, codes, groups = sort_by_query(query_ids)
    X, y = np.asarray(X, dtype=np.float32)[order], np.asarray(y)[order]
    folds = query_folds(codes, n_splits, seed)
    configs = expand_grid(grid)
    results = []
    for c, params in enumerate(configs):
        result = ConfigResult({**params, "seed": seed})
        curves, models = _fold_curves(X, y, codes, folds, result.params, feature_names, max_rounds)
        floor = min(MIN_ROUNDS, curves.shape[1])
        rounds = floor + int(np.argmax(curves.mean(axis=0)[floor - 1 :]))
        for (_, va), model in zip(folds, models):
            model.num_boost_round = rounds
            result.fold_ndcg.append(float(ndcg_per_query(y[va], model.predict(X[va]), _groups(codes[va])).mean()))
            result.best_iterations.append(rounds)
        results.append(result)
        log.info("cv %d/%d %.4f ± %.4f rounds=%d %s", c + 1, len(configs), result.mean, result.std, rounds, params)
        if progress is not None:
            progress(c + 1, len(configs))
    best = max(results, key=lambda r: r.mean)
    ranker = LambdaRanker(tuple(feature_names), best.params, best.best_iterations[0]).fit(X, y, groups)
    ranker.cv_scores = {
        "metric": "ndcg@10",
        "n_splits": n_splits,
        "mean": best.mean,
        "std": best.std,
        "folds": best.fold_ndcg,
        "rounds": best.best_iterations[0],
        "grid": [{"params": r.params, "mean": r.mean, "std": r.std, "rounds": r.best_iterations[0]} for r in results],
    }
    return CVResult(results, best, ranker)


def train_and_save(
    X: np.ndarray,
    y: np.ndarray,
    query_ids: np.ndarray | Sequence[Any],
    feature_names: Sequence[str],
    models_dir: Path,
    *,
    purpose: str = JUDGMENTS,
    training: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[CVResult, Path]:
    """Grid search, refit, and save the chosen model as a new version under ``models_dir/ranker/<purpose>/``.

    ``training`` (label source, weak or not, query counts) is stored in meta.json beside the CV scores.
    """
    result = grid_search_cv(X, y, query_ids, feature_names, **kwargs)
    result.ranker.purpose, result.ranker.training = purpose, dict(training or {})
    path = result.ranker.save(new_version_dir(models_dir, result.ranker.fingerprint, purpose))
    return result, path
