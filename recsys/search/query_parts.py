"""How the text and the photo of one query are combined into one order, and which part each result matched.

A query may have a text part, a photo part, or both. Each part is scored on its own over the recalled candidates:

* text part: the ranker's score (the trained LightGBM model, or the documented fallback) on the text-only
  features. The ranker is trained on text queries, so it is never shown the photo's similarities: a model that
  has never seen ``cos_image_image`` would silently ignore it (that is why a photo used to change nothing);
* photo part: the cosine of the query photo with the item's photos (``image_image``, joint space); an item
  without photos scores 0.

Each part is standardised over the candidate list (z-score: the mean candidate scores 0), then
``score = w_text * z_text + w_photo * z_photo`` with ``PartWeights`` (default 0.5 / 0.5). A part the query does not
have adds nothing, so a text-only query keeps the ranker's order and a photo-only query is ordered by the photo.
Because both parts are on the same scale, a result must do well on both to lead: a backpack photo with "women"
puts women's backpacks first, then backpacks and women's items.

A part *matched* a result when the result scores at least halfway from the worst to the best candidate on it
(robust where z is not: with "cotton shirt", the six shirts against 24 other cotton items): the result says
``text``, ``photo`` or ``both`` (``weak`` when it is in the lower half on every part the query has).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TEXT, PHOTO, BOTH, WEAK = "text", "photo", "both", "weak"


@dataclass(frozen=True)
class PartWeights:
    text: float = 0.5
    photo: float = 0.5

    def __post_init__(self) -> None:
        if self.text < 0 or self.photo < 0 or self.text + self.photo <= 0:
            raise ValueError("part weights must be non-negative and not both zero")


DEFAULT_PART_WEIGHTS = PartWeights()


def upper_half(scores: np.ndarray) -> np.ndarray:
    """True where a score is at least halfway from the list's lowest to its highest (all True without spread)."""
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=-np.inf)
    finite = scores[np.isfinite(scores)]
    if not len(finite):
        return np.zeros(len(scores), dtype=bool)
    return scores >= (finite.min() + finite.max()) / 2


def standardise(scores: np.ndarray) -> np.ndarray:
    """Z-scores over the list; all zeros when the list has no spread (the part then decides nothing)."""
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0)
    spread = scores.std()
    return np.zeros_like(scores) if len(scores) < 2 or spread == 0 else (scores - scores.mean()) / spread


@dataclass(frozen=True)
class Combined:
    scores: np.ndarray  # float64 [n], higher is better
    matched: list[str]  # per candidate: TEXT, PHOTO, BOTH or WEAK


def combine_parts(
    text_scores: np.ndarray | None, photo_scores: np.ndarray | None, weights: PartWeights = DEFAULT_PART_WEIGHTS
) -> Combined:
    """One score per candidate from the parts the query has (at least one)."""
    if text_scores is None and photo_scores is None:
        raise ValueError("a query needs a text part, a photo part, or both")
    if photo_scores is None:  # text only: the ranker's own order, untouched
        assert text_scores is not None
        return Combined(np.asarray(text_scores, np.float64), [TEXT] * len(text_scores))
    z_photo = standardise(photo_scores)
    if text_scores is None:
        return Combined(z_photo, [PHOTO] * len(z_photo))
    z_text = standardise(text_scores)
    matched = [
        BOTH if t and p else TEXT if t else PHOTO if p else WEAK
        for t, p in zip(upper_half(text_scores), upper_half(photo_scores), strict=True)
    ]
    return Combined(weights.text * z_text + weights.photo * z_photo, matched)
