"""``LambdaRanker``: LightGBM LambdaRank over the engineered features, with explanations and versioned saves.

LambdaRank optimises nDCG directly by weighting pairwise swaps inside a query with their nDCG change, which
is the right loss when only the order within one result list matters. Labels are 0-based integer grades;
``label_gain`` 2**g - 1 matches the evaluation gain.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

MAX_GRADE = 31  # label_gain needs one entry per possible grade

# What a saved model was trained for. Serving the catalog must never pick up a model trained on another
# corpus (a CrowdFlower ranker has never seen an image route), so each purpose has its own folder under
# ``models_dir/ranker/`` and the purpose is also written into meta.json and checked at load.
CATALOG = "catalog"  # trained on this catalog's own queries (clicks or weak attribute labels)
JUDGMENTS = "judgments"  # trained on an external graded-judgment file (CrowdFlower format)
PURPOSES = (CATALOG, JUDGMENTS)

BASE_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    "label_gain": [float(2**g - 1) for g in range(MAX_GRADE + 1)],
    "num_leaves": 15,
    "learning_rate": 0.05,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,  # row subsampling per tree: lowers variance with ~150 training queries
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 1,  # shared CPUs; training sets here are small
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
    "seed": 0,
}


def data_fingerprint(X: np.ndarray, y: np.ndarray, groups: np.ndarray, names: Sequence[str]) -> str:
    """sha256 of the exact training data, stored with the model so a result can be traced to its data."""
    h = hashlib.sha256()
    for part in (
        np.ascontiguousarray(X, dtype=np.float32),
        np.asarray(y, dtype=np.int32),
        np.asarray(groups, dtype=np.int64),
    ):
        h.update(part.tobytes())
    h.update("\n".join(names).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Explanation:
    """Per-feature contributions [n, f] and bias [n]; ``contributions.sum(1) + bias`` is the raw score."""

    names: tuple[str, ...]
    contributions: np.ndarray
    bias: np.ndarray


@dataclass
class LambdaRanker:
    feature_names: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    num_boost_round: int = 300
    booster: lgb.Booster | None = None
    cv_scores: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    purpose: str = JUDGMENTS
    training: dict[str, Any] = field(default_factory=dict)  # label source, weak or not, query counts

    def full_params(self) -> dict[str, Any]:
        return {**BASE_PARAMS, **self.params}

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        *,
        valid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        early_stopping_rounds: int | None = None,
        record: dict | None = None,
    ) -> LambdaRanker:
        """Train on rows grouped contiguously by query (``groups`` = rows per query, in order).

        With ``valid`` (X, y, groups): ``record`` receives the validation nDCG@10 after every round, and
        with ``early_stopping_rounds`` training stops once it has not improved for that many rounds and
        keeps the best iteration.
        """
        X = np.asarray(X, dtype=np.float32)
        self._check_width(X)
        train = lgb.Dataset(
            X, label=np.asarray(y), group=np.asarray(groups), feature_name=list(self.feature_names), free_raw_data=False
        )
        sets, callbacks = [train], []
        if valid is not None:
            sets.append(
                lgb.Dataset(np.asarray(valid[0], dtype=np.float32), label=valid[1], group=valid[2], reference=train)
            )
            if record is not None:
                callbacks.append(lgb.record_evaluation(record))
            if early_stopping_rounds:
                callbacks.append(lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False))
        self.booster = lgb.train(
            self.full_params(),
            train,
            num_boost_round=self.num_boost_round,
            valid_sets=sets[1:] or None,
            callbacks=callbacks,
        )
        if early_stopping_rounds and valid is not None:
            self.num_boost_round = max(int(self.booster.best_iteration), 1)
        self.fingerprint = data_fingerprint(X, y, groups, self.feature_names)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Raw ranking scores (higher is better), float64 [n]."""
        X = np.asarray(X, dtype=np.float32)
        self._check_width(X)
        # Dense input gives a dense array; asarray narrows lightgbm's declared sparse-input return types.
        return np.asarray(self._booster().predict(X, num_iteration=self.num_boost_round))

    def explain(self, X: np.ndarray) -> Explanation:
        """Exact TreeSHAP contributions from LightGBM (``pred_contrib``); the last column it returns is the bias."""
        X = np.asarray(X, dtype=np.float32)
        self._check_width(X)
        raw = np.asarray(self._booster().predict(X, num_iteration=self.num_boost_round, pred_contrib=True))
        return Explanation(self.feature_names, raw[:, :-1], raw[:, -1])

    def _booster(self) -> lgb.Booster:
        if self.booster is None:
            raise RuntimeError("ranker is not trained")
        return self.booster

    def _check_width(self, X: np.ndarray) -> None:
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"expected [n, {len(self.feature_names)}] features, got {X.shape}")

    # --- persistence -----------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write model.txt + meta.json into a new directory, atomically; never overwrites an existing one."""
        target = Path(directory)
        if target.exists():
            raise FileExistsError(f"{target} exists; model versions are never overwritten")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            (staging / "model.txt").write_text(self._booster().model_to_string(num_iteration=self.num_boost_round))
            meta = {
                "feature_names": list(self.feature_names),
                "params": self.params,
                "num_boost_round": self.num_boost_round,
                "cv_scores": self.cv_scores,
                "data_fingerprint": self.fingerprint,
                "purpose": self.purpose,
                "training": self.training,
                "lightgbm_version": lgb.__version__,
                "created_at": datetime.now(UTC).isoformat(),
            }
            (staging / "meta.json").write_text(json.dumps(meta, indent=2, default=float))
            os.replace(staging, target)  # one rename: readers see either nothing or a complete version
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    @classmethod
    def load(
        cls, directory: str | Path, expect_features: Sequence[str] | None = None, expect_purpose: str | None = None
    ) -> LambdaRanker:
        directory = Path(directory)
        meta = json.loads((directory / "meta.json").read_text())
        names = tuple(meta["feature_names"])
        if expect_features is not None and tuple(expect_features) != names:
            raise ValueError(f"{directory} was trained on different features; retrain it")
        purpose = meta.get("purpose", "")  # versions saved before purposes existed have none
        if expect_purpose is not None and purpose != expect_purpose:
            raise ValueError(f"{directory} was trained for {purpose or 'an unknown purpose'!r}, not {expect_purpose!r}")
        booster = lgb.Booster(model_str=(directory / "model.txt").read_text())
        return cls(
            names,
            meta["params"],
            int(meta["num_boost_round"]),
            booster,
            meta["cv_scores"],
            meta["data_fingerprint"],
            purpose,
            meta.get("training", {}),
        )


def purpose_root(models_dir: Path, purpose: str) -> Path:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown ranker purpose {purpose!r}; one of {PURPOSES}")
    return Path(models_dir) / "ranker" / purpose


def new_version_dir(models_dir: Path, fingerprint: str, purpose: str = JUDGMENTS) -> Path:
    """``models_dir/ranker/<purpose>/<UTC timestamp>-<fingerprint prefix>``: sortable, unique per data."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return purpose_root(models_dir, purpose) / f"{stamp}-{fingerprint[:8]}"


def latest_version(models_dir: Path, purpose: str = JUDGMENTS) -> Path | None:
    """Newest complete version (one with meta.json) of that purpose; staging folders start with a dot."""
    root = purpose_root(models_dir, purpose)
    versions = (
        sorted(p for p in root.glob("*") if p.is_dir() and not p.name.startswith(".") and (p / "meta.json").exists())
        if root.exists()
        else []
    )
    return versions[-1] if versions else None
