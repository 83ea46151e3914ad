"""The reviews suite's opinion parts: review features from sentence opinions (cross-fitted), out-of-fold logits of
the text models for a stacked model over both, and aspect
detection measured on the hand-labelled sentences (tests/opinions/data, see its README).

Cross-fitting: the polarity regression learns from the fit reviews' own labels, so on those same reviews its
outputs are better than they will be on unseen ones, and a model stacked on them would over-trust them. Each fold
of fit items therefore gets its features from a polarity regression trained on the other folds; the held-out
reviews get them from the regression trained on all fit reviews.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsys.opinions.aspects import Aspect
from recsys.opinions.fitting import fit_from_reviews
from recsys.opinions.labelled import read_labelled
from recsys.opinions.mentions import ReviewText
from recsys.opinions.model import OpinionModel
from recsys.opinions.review_features import review_opinion_features
from recsys.opinions.scoring import score_labelled
from recsys.opinions.sentences import review_sentences
from recsys.opinions.train import polarity_labels, train_polarity
from recsys.opinions.vectors import SentenceVectors

FOLDS = 5
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _str(value: object) -> str:
    return "" if pd.isna(value) else str(value)  # type: ignore[call-overload]


def review_texts(frame: pd.DataFrame, item: str) -> list[ReviewText]:
    return [
        ReviewText(i, int(r[item]), int(r["Rating"]), _str(r["Title"]), _str(r["Review Text"]), EPOCH)
        for i, r in zip(range(len(frame)), frame.to_dict("records"))
    ]


def fit_model(
    fit: pd.DataFrame, item: str, label: str, aspects: tuple[Aspect, ...], vectors: SentenceVectors, seed: int
) -> OpinionModel:
    return fit_from_reviews(
        review_texts(fit, item), fit[label].astype(int).tolist(), aspects, vectors, vectors.model_name, seed
    )


def _features(frame: pd.DataFrame, model: OpinionModel, vectors: SentenceVectors) -> np.ndarray:
    titles = [_str(t) for t in frame["Title"]]
    texts = [_str(t) for t in frame["Review Text"]]
    return review_opinion_features(titles, texts, model, vectors)


def fold_count(items: np.ndarray) -> int:
    """FOLDS, or fewer when there are fewer items (each fold holds at least one item)."""
    return min(FOLDS, len(np.unique(items)))


def item_folds(items: np.ndarray, seed: int) -> dict:
    """item -> fold (0..fold_count-1): every review of an item falls in one fold."""
    order = np.random.default_rng(seed).permutation(np.unique(items))
    folds = fold_count(items)  # once: it is a np.unique over every review
    return {it: f % folds for f, it in enumerate(order)}


def cross_fit_problem(items: np.ndarray, y: np.ndarray, seed: int) -> str | None:
    """Why the fit reviews cannot be cross-fitted by item (None when they can): each fold's complement must hold
    both labels, so a small fit set (few items, or one label outside a fold) is reported instead of crashing."""
    if fold_count(items) < 2:
        return f"cross-fitting needs at least 2 fit items, got {fold_count(items)}"
    fold_of = item_folds(items, seed)
    fold = np.array([fold_of[i] for i in items])
    for f in range(fold_count(items)):
        if len(np.unique(y[fold != f])) < 2:
            return f"fold {f}'s complement holds one label only ({len(items)} fit reviews)"
    return None


def out_of_fold_logits(make: Callable[[], Any], x: Any, y: np.ndarray, items: np.ndarray, seed: int) -> np.ndarray:
    """Each fit review's logit from a copy of the model fitted on the other folds' items (stacking input)."""
    fold_of = item_folds(items, seed)
    fold = np.array([fold_of[i] for i in items])
    out = np.zeros(len(y), dtype=np.float64)
    for f in range(fold_count(items)):
        model = make().fit(x[fold != f], y[fold != f])
        out[fold == f] = model.decision_function(x[fold == f])
    return out


def cross_fitted_features(
    fit: pd.DataFrame, item: str, label: str, model: OpinionModel, vectors: SentenceVectors, seed: int
) -> np.ndarray:
    """Opinion features of the fit reviews, each fold's from a polarity regression that never saw it."""
    rows, sentences, ratings, rec = [], [], [], []
    for k, r in enumerate(fit.to_dict("records")):
        for s in review_sentences(_str(r["Title"]), _str(r["Review Text"])):
            rows.append(k)
            sentences.append(s)
            ratings.append(r["Rating"])
            rec.append(r[label])
    vecs = vectors.encode(sentences)
    labels = polarity_labels(np.asarray(ratings), np.asarray(rec))
    owner_item = fit[item].to_numpy()[np.asarray(rows)]
    fold_of = item_folds(fit[item].to_numpy(), seed)
    sentence_fold = np.array([fold_of[i] for i in owner_item])
    review_fold = np.array([fold_of[i] for i in fit[item].to_numpy()])
    out = np.zeros((len(fit), 0), np.float32)
    for f in range(fold_count(fit[item].to_numpy())):
        coef, intercept = train_polarity(vecs[sentence_fold != f], labels[sentence_fold != f], seed)
        fold_model = dataclasses.replace(model, polarity_coef=coef, polarity_intercept=intercept)
        feats = _features(fit[review_fold == f], fold_model, vectors)
        if out.shape[1] == 0:
            out = np.zeros((len(fit), feats.shape[1]), np.float32)
        out[review_fold == f] = feats
    return out


def held_out_features(test: pd.DataFrame, model: OpinionModel, vectors: SentenceVectors) -> np.ndarray:
    return _features(test, model, vectors)


def aspect_detection(
    labels_path: Path,
    reviews_csv: Path,
    model: OpinionModel,
    aspects: Sequence[Aspect],
    vectors: SentenceVectors,
    held_items: set[int],
) -> dict:
    """Precision / recall per aspect of the classifier and of the seed phrases alone, on the labelled sentences
    of items the model was not fitted on; polarity accuracy on the labelled positive / negative mentions."""
    try:
        every = read_labelled(labels_path, reviews_csv)
    except ValueError as error:  # the labels reference another copy of the reviews (e.g. a small fixture)
        return {"note": f"skipped: the labelled sentences do not resolve against these reviews: {error}"}
    labelled = [s for s in every if s.clothing_id in held_items]
    if not labelled:
        return {"note": "no labelled sentence belongs to a held-out item of this split"}
    out = score_labelled(labelled, vectors.encode([s.text for s in labelled]), model, aspects)
    polarity = out.pop("polarity", None)  # the report's name for it since it was first written
    if polarity is not None:
        out["polarity_accuracy"] = polarity
    return out
