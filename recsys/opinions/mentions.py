"""Review -> aspect mentions: split into sentences, encode, apply the model. Plain data in, plain data out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from recsys.opinions.model import OpinionModel
from recsys.opinions.sentences import review_sentences

# P(positive) at or above POSITIVE_AT is praise, at or below NEGATIVE_AT a complaint, between them neutral
# (size reports, plain facts); symmetric around the balanced classifier's 0.5.
POSITIVE_AT, NEGATIVE_AT = 0.6, 0.4


class Encoder(Protocol):
    def encode(self, sentences: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ReviewText:
    review_id: int
    item_id: int
    rating: int
    title: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Mention:
    """One sentence of one review talking about one aspect."""

    item_id: int
    review_id: int
    created_at: datetime
    aspect: str
    sentence: str  # verbatim from the review
    polarity: str  # positive / negative / neutral
    p_positive: float
    confidence: float  # P(aspect | sentence)
    verdict: str = ""  # e.g. "small" for fit, "" when none is confidently said


def polarity_of(p: float) -> str:
    return "positive" if p >= POSITIVE_AT else "negative" if p <= NEGATIVE_AT else "neutral"


def find_mentions(reviews: Sequence[ReviewText], model: OpinionModel, encoder: Encoder) -> list[Mention]:
    """Every (sentence, aspect) the model detects in ``reviews``; one batch through the encoder."""
    owners: list[ReviewText] = []
    sentences: list[str] = []
    for review in reviews:
        for sentence in review_sentences(review.title, review.text):
            owners.append(review)
            sentences.append(sentence)
    if not sentences:
        return []
    found = model.apply(encoder.encode(sentences))
    out = []
    for i, j in zip(*np.nonzero(found.aspect_hits)):
        review, key = owners[i], model.aspect_keys[j]
        p = float(found.positive[i])
        verdict = found.verdicts.get(key, [""] * len(sentences))[i]
        out.append(
            Mention(
                review.item_id,
                review.review_id,
                review.created_at,
                key,
                sentences[i],
                polarity_of(p),
                p,
                float(found.aspect_probs[i, j]),
                verdict,
            )
        )
    return out
