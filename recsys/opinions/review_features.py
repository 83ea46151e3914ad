"""Review-level features from sentence-level opinions, for models that score whole reviews.

Whether a shopper recommends a garment hangs on its worst sentence more than on the average one ("love the
colour ... but it runs so small I sent it back"), which a whole-review vector dilutes. Per review: the mean, min
and max sentence P(positive), the title's P(positive), the share of complaint sentences, and per aspect whether
it is mentioned and the lowest P(positive) among its sentences (0.5 when not mentioned).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.opinions.mentions import NEGATIVE_AT, Encoder
from recsys.opinions.model import OpinionModel
from recsys.opinions.sentences import review_sentences


def feature_names(aspect_keys: Sequence[str]) -> list[str]:
    base = ["pos_mean", "pos_min", "pos_max", "pos_title", "share_negative", "sentences_log"]
    return base + [f"{k}_mentioned" for k in aspect_keys] + [f"{k}_pos_min" for k in aspect_keys]


def review_opinion_features(
    titles: Sequence[str], texts: Sequence[str], model: OpinionModel, encoder: Encoder
) -> np.ndarray:
    """float32 [n_reviews, len(feature_names)]."""
    owner: list[int] = []
    is_title: list[bool] = []
    sentences: list[str] = []
    for k, (title, text) in enumerate(zip(titles, texts)):
        for j, s in enumerate(review_sentences(title, text)):
            owner.append(k)
            is_title.append(j == 0 and bool((title or "").strip()))
            sentences.append(s)
    n, a = len(titles), len(model.aspect_keys)
    out = np.zeros((n, 6 + 2 * a), dtype=np.float32)
    out[:, :4] = 0.5
    out[:, 6 + a :] = 0.5
    if not sentences:
        return out
    found = model.apply(encoder.encode(sentences))
    owners = np.asarray(owner)
    pos = found.positive
    for k in range(n):
        rows = np.nonzero(owners == k)[0]
        if len(rows) == 0:
            continue
        p = pos[rows]
        titled = [r for r in rows if is_title[r]]
        out[k, :6] = (
            p.mean(),
            p.min(),
            p.max(),
            pos[titled[0]] if titled else p.mean(),
            float((p <= NEGATIVE_AT).mean()),
            np.log1p(len(rows)),
        )
        hits = found.aspect_hits[rows]
        out[k, 6 : 6 + a] = hits.any(axis=0)
        for col in np.nonzero(hits.any(axis=0))[0]:
            out[k, 6 + a + int(col)] = p[hits[:, col]].min()
    return out
