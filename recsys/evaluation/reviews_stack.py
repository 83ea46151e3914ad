"""Reviews suite: two more text bases (character n-grams, NB-SVM) and a stack chosen by item-grouped CV.

Why more bases: word TF-IDF misses misspellings and word pieces ("runs smalll", "unflattering"), which character
n-grams catch; NB-SVM weighs each n-gram by how much more often it appears in one class, which suits short
sentiment text. Each base gives out-of-fold logits on the fit reviews (folds by item, ``reviews_opinions``), and
a small logistic regression over them is the stack.

Which bases go in the stack is not fixed here: every candidate in ``CANDIDATES`` is scored by grouped
cross-validation of the stacker on the fit reviews' out-of-fold columns, and the best one (the one with fewer
parts on a near-tie, ``TIE``) is refitted and scored on the held-out items. The held-out items play no part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from recsys.evaluation.reviews_opinions import fold_count, item_folds

# Chosen by out-of-fold AUC on the fit items of the real split (grid {1, 4} each; docs/opinions.md, "Numbers").
CHAR_C = 1.0
NBSVM_C = 1.0
TIE = 0.0005  # CV AUC differences below this are noise at ~15k reviews: prefer the smaller stack

# name -> parts; "opinions" is the block of per-review sentence-opinion features, the rest are single logits
CANDIDATES: dict[str, tuple[str, ...]] = {
    "word+minilm": ("word", "minilm"),
    "word+char+minilm": ("word", "char", "minilm"),
    "word+nbsvm+minilm": ("word", "nbsvm", "minilm"),
    "word+char+nbsvm+minilm": ("word", "char", "nbsvm", "minilm"),
    "word+minilm+opinions": ("word", "minilm", "opinions"),
    "word+char+nbsvm+minilm+opinions": ("word", "char", "nbsvm", "minilm", "opinions"),
}


def char_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)


def count_vectorizer() -> CountVectorizer:
    return CountVectorizer(ngram_range=(1, 2), min_df=2, binary=True)


class NBLogistic:
    """NB-SVM (Wang & Manning 2012) with a logistic loss: binary n-gram counts scaled by the log-count ratio
    log(P(gram | recommended) / P(gram | not)), smoothed by ``alpha``. The ratio is learnt in ``fit``, so an
    out-of-fold copy never sees the labels of the reviews it scores."""

    def __init__(self, C: float = NBSVM_C, alpha: float = 1.0, seed: int = 0) -> None:
        self.C, self.alpha, self.seed = C, alpha, seed

    def fit(self, x: sparse.csr_matrix, y: np.ndarray) -> NBLogistic:
        if len(np.unique(y)) < 2:
            raise ValueError("NBLogistic.fit needs both labels")
        p = np.asarray(x[y == 1].sum(axis=0)).ravel() + self.alpha
        q = np.asarray(x[y == 0].sum(axis=0)).ravel() + self.alpha
        self.ratio_ = np.log((p / p.sum()) / (q / q.sum()))
        self.model_ = LogisticRegression(C=self.C, max_iter=3000, random_state=self.seed)
        self.model_.fit(self._scaled(x), y)
        return self

    def _scaled(self, x: sparse.csr_matrix) -> sparse.csr_matrix:
        return sparse.csr_matrix(x @ sparse.diags(self.ratio_))

    def decision_function(self, x: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(self.model_.decision_function(self._scaled(x)))


def _matrix(columns: Mapping[str, np.ndarray], parts: Sequence[str]) -> np.ndarray:
    return np.column_stack([np.asarray(columns[p], dtype=np.float64).reshape(len(columns[p]), -1) for p in parts])


def _stacker(seed: int) -> LogisticRegression:
    return LogisticRegression(C=1.0, max_iter=2000, random_state=seed)


def stack_cv_auc(z: np.ndarray, y: np.ndarray, items: np.ndarray, seed: int) -> float:
    """Pooled AUC of the stacker's out-of-fold predictions: fold f's reviews scored by a stacker (and scaler)
    fitted on the other folds' items."""
    fold_of = item_folds(items, seed)
    fold = np.array([fold_of[i] for i in items])
    out = np.zeros(len(y))
    for f in range(fold_count(items)):
        scaler = StandardScaler().fit(z[fold != f])
        model = _stacker(seed).fit(scaler.transform(z[fold != f]), y[fold != f])
        out[fold == f] = model.decision_function(scaler.transform(z[fold == f]))
    return float(roc_auc_score(y, out))


def select_stack(
    columns: Mapping[str, np.ndarray],
    y: np.ndarray,
    items: np.ndarray,
    seed: int,
    candidates: Mapping[str, tuple[str, ...]] = CANDIDATES,
) -> tuple[str, dict[str, float]]:
    """(chosen candidate, CV AUC of every candidate whose parts are all in ``columns``). The chosen one has the
    highest CV AUC, or, among those within ``TIE`` of it, the fewest parts (then the higher AUC)."""
    scores = {
        name: stack_cv_auc(_matrix(columns, parts), y, items, seed)
        for name, parts in candidates.items()
        if all(p in columns for p in parts)
    }
    if not scores:
        raise ValueError(f"no stack candidate can be built from the columns {sorted(columns)}")
    best = max(scores.values())
    near = [name for name, auc in scores.items() if auc >= best - TIE]
    chosen = min(near, key=lambda name: (len(candidates[name]), -scores[name]))
    return chosen, scores


class Stack:
    """The chosen candidate's stacker, fitted on all fit reviews' out-of-fold columns."""

    def __init__(self, parts: tuple[str, ...], columns: Mapping[str, np.ndarray], y: np.ndarray, seed: int) -> None:
        self.parts = parts
        z = _matrix(columns, parts)
        self.scaler = StandardScaler().fit(z)
        self.model = _stacker(seed).fit(self.scaler.transform(z), y)

    def predict(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self.model.predict_proba(self.scaler.transform(_matrix(columns, self.parts)))[:, 1])
