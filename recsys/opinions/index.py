"""The live opinion index: mentions per item, kept up to date one review at a time.

Adding a review classifies that review's sentences only and updates the per-item, per-aspect counts it touches;
the catalog priors are recomputed from those counts (a pass over aspect x reviewed-item counters, no text), so
no review is ever re-read or re-encoded. Thread-safe: the service adds reviews from its write path while pages
read summaries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np

from recsys.opinions.aspects import Aspect
from recsys.opinions.mentions import Encoder, Mention, ReviewText, find_mentions
from recsys.opinions.model import OpinionModel
from recsys.opinions.shrinkage import AspectPrior, fit_prior, shrunk_share
from recsys.opinions.summary import ItemOpinions, summarise_item

POLARITY_SLOT = {"positive": 0, "negative": 1, "neutral": 2}


class OpinionIndex:
    def __init__(self, model: OpinionModel, aspects: tuple[Aspect, ...], encoder: Encoder) -> None:
        if not model.matches(aspects):
            raise ValueError("the opinion model was trained on another aspect list: retrain it")
        self.model, self.aspects, self.encoder = model, aspects, encoder
        self._lock = threading.Lock()
        self._mentions: dict[int, list[Mention]] = {}
        self._review_item: dict[int, int] = {}  # review id -> item id: a review is classified once
        self._counts: dict[str, dict[int, np.ndarray]] = {a.key: {} for a in aspects}  # [pos, neg, neutral]
        self._priors: dict[str, AspectPrior] | None = None

    def add_reviews(self, reviews: Sequence[ReviewText]) -> int:
        """Classify reviews not seen before; returns the number of mentions added."""
        with self._lock:
            fresh = [r for r in reviews if r.review_id not in self._review_item]
        if not fresh:
            return 0
        mentions = find_mentions(fresh, self.model, self.encoder)  # outside the lock: encoding is the slow part
        with self._lock:
            fresh = [r for r in fresh if r.review_id not in self._review_item]  # another thread may have won
            ids = {r.review_id for r in fresh}
            for r in fresh:
                self._review_item[r.review_id] = r.item_id
                self._mentions.setdefault(r.item_id, [])
            added = 0
            for m in mentions:
                if m.review_id not in ids:
                    continue
                self._mentions[m.item_id].append(m)
                counts = self._counts[m.aspect].setdefault(m.item_id, np.zeros(3, np.int64))
                counts[POLARITY_SLOT[m.polarity]] += 1
                added += 1
            self._priors = None
        return added

    def drop_items(self, item_ids: Iterable[int]) -> None:
        with self._lock:
            for item_id in item_ids:
                self._mentions.pop(int(item_id), None)
                for counts in self._counts.values():
                    counts.pop(int(item_id), None)
            gone = {r for r, i in self._review_item.items() if i not in self._mentions}
            for r in gone:
                del self._review_item[r]
            self._priors = None

    def priors(self) -> dict[str, AspectPrior]:
        with self._lock:
            if self._priors is None:
                self._priors = {}
                for key, per_item in self._counts.items():
                    rows = np.array(list(per_item.values()), np.float64).reshape(-1, 3)
                    self._priors[key] = fit_prior(rows[:, 0], rows[:, 1])
            return self._priors

    def reviews_of(self, item_id: int) -> int:
        with self._lock:
            return sum(1 for i in self._review_item.values() if i == item_id)

    def mentions(self, item_ids: Iterable[int] | None = None) -> list[Mention]:
        with self._lock:
            keys = self._mentions.keys() if item_ids is None else [int(i) for i in item_ids]
            return [m for k in keys for m in self._mentions.get(k, [])]

    def known_items(self) -> list[int]:
        with self._lock:
            return list(self._mentions)

    def summary(self, item_id: int) -> ItemOpinions:
        priors = self.priors()
        return summarise_item(item_id, self.reviews_of(item_id), self.mentions([item_id]), self.aspects, priors)

    def shrunk_shares(self, item_ids: Sequence[int], aspect_keys: Sequence[str]) -> np.ndarray:
        """float32 [n, len(aspect_keys)]: shrunk share of praise per item and aspect (the prior for an item with
        no mention; NaN for an aspect this index does not know)."""
        priors = self.priors()
        out = np.full((len(item_ids), len(aspect_keys)), np.nan, dtype=np.float32)
        with self._lock:
            for j, key in enumerate(aspect_keys):
                per_item = self._counts.get(key)
                if per_item is None:
                    continue
                counts = np.array([per_item.get(int(i), np.zeros(3)) for i in item_ids], np.float64).reshape(-1, 3)
                out[:, j] = shrunk_share(counts[:, 0], counts[:, 1], priors[key])
        return out

    def mention_counts(self, item_ids: Sequence[int]) -> np.ndarray:
        """float32 [n]: aspect mentions per item (0 for an item without)."""
        with self._lock:
            return np.array([len(self._mentions.get(int(i), [])) for i in item_ids], np.float32)
