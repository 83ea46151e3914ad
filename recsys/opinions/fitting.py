"""Reviews -> trained opinion model: split, encode (cached), train. Shared by the suite, the CLI and the service."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.opinions.aspects import Aspect
from recsys.opinions.mentions import Encoder, ReviewText
from recsys.opinions.model import OpinionModel
from recsys.opinions.sentences import review_sentences
from recsys.opinions.train import train_opinion_model


def fit_from_reviews(
    reviews: Sequence[ReviewText],
    recommended: Sequence[int] | None,
    aspects: tuple[Aspect, ...],
    encoder: Encoder,
    model_name: str,
    seed: int = 0,
) -> OpinionModel:
    """Every sentence of every review, labelled by its review (see ``train``); groups are items."""
    sentences: list[str] = []
    ratings: list[int] = []
    rec: list[int] = []
    groups: list[int] = []
    for k, review in enumerate(reviews):
        for sentence in review_sentences(review.title, review.text):
            sentences.append(sentence)
            ratings.append(review.rating)
            rec.append(1 if recommended is None else int(recommended[k]))
            groups.append(review.item_id)
    if not sentences:
        raise ValueError("no review sentences to train the opinion model on")
    vectors = encoder.encode(sentences)
    return train_opinion_model(
        sentences,
        vectors,
        np.asarray(ratings),
        None if recommended is None else np.asarray(rec),
        np.asarray(groups),
        aspects,
        model_name,
        seed=seed,
    )
