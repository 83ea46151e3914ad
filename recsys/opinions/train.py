"""Train the opinion model from reviews: weak labels in, logistic regressions over sentence vectors out.

* Aspect detector, one per aspect: a sentence is a weak positive when it contains one of the aspect's seeds.
  The classifier learns what the seeds have in common, so it also fires on sentences with no seed ("I had to
  go up two sizes" for fit); each decision threshold maximises F1 against the weak labels of a held-out tenth.
* Polarity: every sentence inherits its review's verdict: rating 4-5 and recommended is positive, rating 1-2
  (or not recommended at 3) negative, other reviews left out. Sentence-level noise (a complaint inside a
  five-star review) averages out over ~100k sentences; the held-out tenth reports its AUC against those labels.
* Verdicts (e.g. fit: small / large / true): sentences whose seeds name exactly one verdict train a multinomial
  regression, so "had to exchange for a bigger one" counts as small without a seed saying so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve, roc_auc_score

from recsys.opinions.aspects import Aspect, aspects_fingerprint, seed_pattern
from recsys.opinions.model import OpinionModel, VerdictHead

MIN_POSITIVES = 5  # an aspect with fewer weak positives cannot be learned from these reviews
MIN_GROUPS_TO_VALIDATE = 20  # items; fewer cannot spare a tenth for choosing thresholds
MIN_VERDICT = 3  # a verdict with fewer single-verdict sentences is left out of its aspect's head


def weak_aspect_labels(sentences: Sequence[str], aspects: tuple[Aspect, ...]) -> np.ndarray:
    """bool [n, A]: the sentence contains a seed of the aspect."""
    patterns = [seed_pattern(a.seeds) for a in aspects]
    return np.array([[p.search(s) is not None for p in patterns] for s in sentences], dtype=bool).reshape(
        len(sentences), len(aspects)
    )


def polarity_labels(ratings: np.ndarray, recommended: np.ndarray | None) -> np.ndarray:
    """float [n]: 1 positive, 0 negative, NaN left out (see module note)."""
    ratings = np.asarray(ratings, dtype=float)
    rec = np.ones_like(ratings) if recommended is None else np.asarray(recommended, dtype=float)
    out = np.full(len(ratings), np.nan)
    out[(ratings >= 4) & (rec == 1)] = 1.0
    out[(ratings <= 2) | ((ratings == 3) & (rec == 0))] = 0.0
    return out


def _best_threshold(labels: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1 on a validation split."""
    precision, recall, thresholds = precision_recall_curve(labels, probs)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-9)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    return (float(thresholds[best]), float(f1[best])) if len(thresholds) else (0.5, 0.0)


def train_polarity(vectors: np.ndarray, labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, float]:
    """(coef, intercept) of the sentence polarity regression; ``labels`` from ``polarity_labels`` (NaN skipped)."""
    known = ~np.isnan(labels)
    if len(np.unique(labels[known])) < 2:
        raise ValueError("polarity needs both positive and negative reviews to learn from")
    clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced", random_state=seed)
    clf.fit(vectors[known], labels[known].astype(int))
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0])


def _logistic(seed: int, c: float = 1.0) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=2000, random_state=seed)


def train_opinion_model(
    sentences: Sequence[str],
    vectors: np.ndarray,
    ratings: Sequence[int] | np.ndarray,
    recommended: Sequence[int] | np.ndarray | None,
    groups: Sequence[int] | np.ndarray,
    aspects: tuple[Aspect, ...],
    model_name: str,
    seed: int = 0,
) -> OpinionModel:
    """Fit on sentences (each with its review's rating / recommended and a group id, e.g. the item, so the
    validation tenth holds whole items)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if n != len(sentences) or n != len(ratings) or n != len(groups):
        raise ValueError("sentences, vectors, ratings and groups must align")
    unique = np.unique(np.asarray(groups))
    if len(unique) >= MIN_GROUPS_TO_VALIDATE:
        held_groups = np.random.default_rng(seed).permutation(unique)[: len(unique) // 10]
        held = np.isin(np.asarray(groups), held_groups)
        fit = ~held
    else:  # too few items to hold a tenth out: thresholds and notes come from the fit sentences themselves
        held = fit = np.ones(n, dtype=bool)
    weak = weak_aspect_labels(sentences, aspects)
    metrics: dict = {
        "sentences": int(n),
        "validation_sentences": int(held.sum() if not fit.all() else 0),
        "aspects": {},
    }

    coef = np.zeros((len(aspects), dim), np.float32)
    intercept = np.full(len(aspects), -30.0, np.float32)  # an aspect that cannot be learned never fires
    threshold = np.full(len(aspects), 0.5, np.float32)
    for a, aspect in enumerate(aspects):
        y = weak[:, a]
        if y[fit].sum() < MIN_POSITIVES or (~y[fit]).sum() < MIN_POSITIVES:
            metrics["aspects"][aspect.key] = {"weak_positives": int(y.sum()), "trained": False}
            continue
        clf = _logistic(seed).fit(vectors[fit], y[fit])
        coef[a], intercept[a] = clf.coef_[0], clf.intercept_[0]
        val_probs = clf.predict_proba(vectors[held])[:, 1]
        t, f1 = _best_threshold(y[held], val_probs) if y[held].any() else (0.5, 0.0)
        threshold[a] = t
        metrics["aspects"][aspect.key] = {"weak_positives": int(y.sum()), "trained": True, "val_weak_f1": f1}

    pol = polarity_labels(np.asarray(ratings), None if recommended is None else np.asarray(recommended))
    pol_coef, pol_intercept = train_polarity(vectors[fit], pol[fit], seed)
    val = ~np.isnan(pol) & held
    if len(np.unique(pol[val])) == 2:
        metrics["polarity_val_auc_vs_review_label"] = float(
            roc_auc_score(pol[val], vectors[val] @ pol_coef + pol_intercept)
        )

    heads: dict[str, VerdictHead] = {}
    for aspect in aspects:
        if not aspect.verdicts:
            continue
        marks = weak_aspect_labels(sentences, tuple(Aspect(v.key, v.label, v.seeds) for v in aspect.verdicts))
        single = marks.sum(axis=1) == 1
        labels = marks.argmax(axis=1)
        counts = np.bincount(labels[single & fit], minlength=len(aspect.verdicts))
        learnable = [k for k, c in enumerate(counts) if c >= MIN_VERDICT]
        metrics.setdefault("verdicts", {})[aspect.key] = {"counts": counts.tolist(), "trained": bool(learnable)}
        if not learnable:
            continue
        # "none of these" keeps a plain mention of the aspect ("the fit is odd") from being forced into a verdict
        usable = single & np.isin(labels, learnable)
        none = weak[:, aspects.index(aspect)] & ~marks.any(axis=1)
        rows = (usable | none) & fit
        y = np.where(usable, labels, len(aspect.verdicts))[rows]
        if len(np.unique(y)) < 2:
            continue
        clf = _logistic(seed).fit(vectors[rows], y)
        keys = tuple(aspect.verdicts[k].key if k < len(aspect.verdicts) else "" for k in clf.classes_)
        weights, bias = clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32)
        if len(keys) == 2:  # a binary regression: the same probabilities as softmax over rows [0, w]
            weights, bias = np.vstack([np.zeros_like(weights), weights]), np.array([0.0, bias[0]], np.float32)
        heads[aspect.key] = VerdictHead(keys, weights, bias)

    return OpinionModel(
        model_name=model_name,
        aspect_keys=tuple(a.key for a in aspects),
        aspects_fingerprint=aspects_fingerprint(aspects),
        aspect_coef=coef,
        aspect_intercept=intercept,
        aspect_threshold=threshold,
        polarity_coef=pol_coef,
        polarity_intercept=pol_intercept,
        verdict_heads=heads,
        metrics=metrics,
    )
