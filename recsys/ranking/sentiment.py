"""Review sentiment: a small logistic-regression model trained on real reviews, stored without pickle.

Trained on the Women's E-Commerce Clothing Reviews (rating 4-5 positive, 1-2 negative, 3 left out) over
hashed word uni+bi-grams, so the model is just a weight vector and needs no vocabulary file. Item-level
``sentiment_mean`` (an input of the quality features) is the mean P(positive) over an item's reviews.
Ratings already say "how good"; sentiment adds what the text says even where star ratings cluster at 4-5.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

N_FEATURES = 2**18


def _vectorizer() -> HashingVectorizer:
    return HashingVectorizer(n_features=N_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm="l2")


@dataclass
class SentimentModel:
    coef: np.ndarray  # float32 [N_FEATURES]
    intercept: float

    @classmethod
    def fit(cls, texts: Sequence[str], ratings: Sequence[int], *, c: float = 4.0, seed: int = 0) -> SentimentModel:
        stars = np.asarray(ratings)
        keep = stars != 3  # neutral reviews blur the boundary; leave them out of training
        y = (stars[keep] >= 4).astype(int)
        X = _vectorizer().transform([t for t, k in zip(texts, keep) if k])
        model = LogisticRegression(C=c, max_iter=1000, class_weight="balanced", random_state=seed).fit(X, y)
        return cls(model.coef_[0].astype(np.float32), float(model.intercept_[0]))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) per review text, float32."""
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float32)
        logits = _vectorizer().transform([t or "" for t in texts]) @ self.coef + self.intercept
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "sentiment_coef.npy", self.coef)
        (directory / "sentiment.json").write_text(json.dumps({"intercept": self.intercept, "n_features": N_FEATURES}))

    @classmethod
    def load(cls, directory: Path) -> SentimentModel:
        meta = json.loads((directory / "sentiment.json").read_text())
        if meta["n_features"] != N_FEATURES:
            raise ValueError("sentiment model was saved with a different hashing size")
        return cls(np.load(directory / "sentiment_coef.npy"), float(meta["intercept"]))


def item_sentiment(item_ids: np.ndarray, review_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unique item ids, mean P(positive) per item) from one probability per review."""
    ids, inverse = np.unique(np.asarray(item_ids), return_inverse=True)
    sums = np.bincount(inverse, weights=np.asarray(review_probs, dtype=np.float64))
    return ids, (sums / np.bincount(inverse)).astype(np.float32)
