"""Plain-data inputs of the feature families: arrays aligned with one candidate list, never ORM objects.

The service fills these from the catalog (aggregates of reviews and interactions) and from the recall
routes (BM25 and dense scores it already computed); training code fills them from judgment files.
Any field left as None becomes a NaN column, which LightGBM treats as "missing".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class RouteScores:
    """Scores the recall routes already produced for each candidate (aligned with the candidate list)."""

    bm25_title: Array | None = None
    bm25_desc: Array | None = None
    cos_text_title: Array | None = None  # query text vs item title embedding
    cos_text_desc: Array | None = None  # query text vs item description embedding
    cos_text_doc: Array | None = None  # query text vs embedding of title + description as one text
    cos_text_image: Array | None = None  # query text vs item image embedding (CLIP route)
    cos_image_image: Array | None = None  # query image vs item image embedding


@dataclass(frozen=True)
class ItemStats:
    """Catalog aggregates per candidate; see ``Priors`` for the catalog-wide values they are smoothed with."""

    rating_sum: Array | None = None
    rating_count: Array | None = None
    sentiment_mean: Array | None = None  # mean P(positive) of the item's reviews, see ranking/sentiment.py
    price: Array | None = None
    category_price_mean: Array | None = None  # mean/std of log price in the item's category
    category_price_std: Array | None = None
    age_days: Array | None = None
    impressions: Array | None = None
    clicks: Array | None = None
    # Review opinions (features/opinions.py, from features.opinions.opinion_inputs): shrunk praise share per
    # packaged aspect [n, aspects] and aspect mentions [n]; None without an opinion index.
    opinion_shares: Array | None = None
    opinion_mentions: Array | None = None


@dataclass(frozen=True)
class Priors:
    """Catalog-wide priors; build them with ``fit_priors`` from catalog aggregates, not by hand."""

    rating_mean: float
    rating_weight: float  # pseudo-reviews: the Bayesian average trusts an item's mean after ~this many reviews
    ctr_alpha: float  # Beta prior on click-through rate (pseudo-clicks)
    ctr_beta: float  # pseudo-non-clicks
    impression_edges: tuple[float, ...] = ()  # catalog impression quantiles: popularity bucket boundaries
    tail_impressions: float = 0.0  # items at or below this many impressions are "tail"


@dataclass(frozen=True)
class TokenVectors:
    """Contextual word-piece vectors of one text (``recsys.ranking.token_vectors``): unit rows [pieces, dim]
    and, per piece, the index of the whitespace word it belongs to (pieces of one word share it)."""

    vectors: Array
    word_ids: Array


@dataclass(frozen=True)
class CandidateList:
    """One query and its n candidates; every array field has length n (vectors have n rows)."""

    query: str
    titles: Sequence[str]
    descriptions: Sequence[str]
    scores: RouteScores = field(default_factory=RouteScores)
    items: ItemStats = field(default_factory=ItemStats)
    item_vectors: Array | None = None  # unit item embeddings: session similarity, result-set agreement
    clicked_vectors: Array | None = None  # unit embeddings of items the shopper clicked this session
    query_tokens: TokenVectors | None = None  # late interaction (features/late_interaction.py); None: NaN
    title_tokens: Sequence[TokenVectors] | None = None  # one per candidate

    def __len__(self) -> int:
        return len(self.titles)


def column(values: Array | None, n: int) -> Array:
    """float32 column of length n; NaN when the input is absent."""
    if values is None:
        return np.full(n, np.nan, dtype=np.float32)
    arr = np.asarray(values, dtype=np.float32).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"expected {n} values, got {arr.shape[0]}")
    return arr
