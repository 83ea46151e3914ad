"""``LinearBlend``: a ridge regression over per-query z-scores of a few strong relevance scores.

Measured on CrowdFlower's unseen queries (outer 5-fold CV by query, docs/ranking.md), LightGBM over all
engineered features does not beat the MiniLM cosine: with ~140 training queries and noisy graded labels the
trees learn query-specific splits that do not transfer. Three scores, standardised within each query
(LambdaRank and nDCG only compare candidates of one query) and weighted by ridge regression on the grades of
the training queries, do beat it: the sentence cosine of the query with title + description
(``cos_text_doc``), the late-interaction word match with the title (``li_title_mean``) and the agreement with
the query's other strong candidates (``prf_sim``, pseudo-relevance feedback, features/result_set.py).
Three weights and an intercept cannot memorise queries, so the fit is stable across folds and seeds.

A missing column (no encoder) is z-scored as 0 for every candidate, i.e. it contributes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

BLEND_FEATURES: tuple[str, ...] = ("cos_text_doc", "li_title_mean", "prf_sim")
ALPHA = 10.0  # ridge penalty on standardised inputs; with thousands of rows and 3 weights it barely binds


def per_query_z(X: np.ndarray, query_ids: Sequence[Any]) -> np.ndarray:
    """Columns standardised within each query (population std); NaN and zero-spread columns become 0."""
    frame = pd.DataFrame(np.asarray(X, dtype=np.float64))
    groups = frame.groupby(pd.factorize(pd.Series(list(query_ids), dtype=object))[0])
    mean, std = groups.transform("mean"), groups.transform(lambda c: c.std(ddof=0))
    z = (frame - mean) / std.where(std > 0)
    return z.fillna(0.0).to_numpy()


@dataclass
class LinearBlend:
    """Fit on rows of many queries (any order); ``predict`` needs each row's query id for the z-scores."""

    feature_names: tuple[str, ...]
    blend_features: tuple[str, ...] = BLEND_FEATURES
    alpha: float = ALPHA
    coef: list[float] = field(default_factory=list)
    intercept: float = 0.0

    def _columns(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"expected [n, {len(self.feature_names)}] features, got {X.shape}")
        return X[:, [self.feature_names.index(name) for name in self.blend_features]]

    def fit(self, X: np.ndarray, grades: np.ndarray, query_ids: Sequence[Any]) -> LinearBlend:
        """``grades``: graded relevance of each row (any monotone scale; CrowdFlower's 1-4 as they are)."""
        model = Ridge(alpha=self.alpha).fit(per_query_z(self._columns(X), query_ids), np.asarray(grades, float))
        self.coef, self.intercept = [float(c) for c in model.coef_], float(model.intercept_)
        return self

    def predict(self, X: np.ndarray, query_ids: Sequence[Any]) -> np.ndarray:
        if not self.coef:
            raise RuntimeError("blend is not fitted")
        return per_query_z(self._columns(X), query_ids) @ np.asarray(self.coef) + self.intercept

    def weights(self) -> dict[str, float]:
        return dict(zip(self.blend_features, self.coef))

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        meta = {
            "feature_names": list(self.feature_names),
            "blend_features": list(self.blend_features),
            "alpha": self.alpha,
            "coef": self.coef,
            "intercept": self.intercept,
        }
        path.write_text(json.dumps(meta, indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path) -> LinearBlend:
        meta = json.loads(Path(path).read_text())
        return cls(
            tuple(meta["feature_names"]),
            tuple(meta["blend_features"]),
            float(meta["alpha"]),
            [float(c) for c in meta["coef"]],
            float(meta["intercept"]),
        )
