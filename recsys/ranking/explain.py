"""Turn per-feature contributions into a short sentence a shopper or merchant can read.

Several features carry one idea (bm25_title, title_cov and their per-query ranks all mean "title matches"),
so contributions are summed per reason first; the strongest positive reasons are named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import numpy as np

from recsys.ranking.features.registry import FEATURES

Values = Mapping[str, float]

# reason -> phrase, possibly formatted from the candidate's own feature values.
PHRASES: dict[str, Callable[[Values], str]] = {
    "title": lambda v: "strong title match",
    "description": lambda v: "description matches the query",
    "meaning": lambda v: "close in meaning to the query",
    "image": lambda v: "looks like what was searched",
    "attributes": lambda v: "matching size/colour/number",
    "rating": lambda v: (
        f"{v['rating_bayes']:.1f} stars from {int(round(np.expm1(v['rating_count_log'])))} reviews"
        if np.isfinite(v.get("rating_count_log", np.nan))
        else "well rated"
    ),
    "sentiment": lambda v: "positive reviews",
    "opinions": lambda v: "reviewers praise it",  # features/opinions.py: shrunk praise per aspect
    "price": lambda v: "good price for its category",
    "fresh": lambda v: "new arrival",
    "popularity": lambda v: "popular with shoppers",
    "session": lambda v: "similar to items you viewed",
    "agreement": lambda v: "like the other results for this query",
    "discovery": lambda v: "a less-seen item worth a look",
}


LENGTHS = frozenset({"query_len", "title_len", "desc_len_log", "desc_missing"})


def reason_of(name: str) -> str | None:
    """Which reason a feature supports; None for features that carry no reason by themselves (lengths)."""
    if name in LENGTHS:
        return None
    if name.startswith(("cos_text_image", "cos_image_image")):
        return "image"
    if "cos_text" in name:
        return "meaning"
    if name.startswith(("prf_sim", "set_coherence")):
        return "agreement"
    if name.startswith("li_title"):
        return "title"  # word-by-word match of the query with the title (late interaction)
    if name.startswith(("bm25_title", "title_", "head_in_title", "any_cov")):
        return "title"
    if name.startswith(("bm25_desc", "desc_cov", "desc_phrase", "desc_jaccard", "head_in_desc")):
        return "description"
    if name.startswith("opinion_"):
        return "opinions"
    if name.startswith(("attr_", "query_attr", "qm_")):  # qm_: query understanding (features/query_match.py)
        return "attributes"
    table = {
        "rating_bayes": "rating",
        "rating_count_log": "rating",
        "review_sentiment": "sentiment",
        "price_log": "price",
        "price_z_category": "price",
        "age_days_log": "fresh",
        "ctr_smoothed": "popularity",
        "impressions_log": "popularity",
        "clicks_log": "popularity",
        "popularity_bucket": "popularity",
        "session_max_sim": "session",
        "session_mean_sim": "session",
        "is_tail": "discovery",
    }
    return table.get(name)


@lru_cache(maxsize=8)
def _reason_columns(names: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray]:
    """The reasons ``names`` support, and a [features, reasons] 0/1 matrix that sums contributions per reason."""
    reasons = tuple(dict.fromkeys(r for r in map(reason_of, names) if r is not None))
    matrix = np.zeros((len(names), len(reasons)))
    for i, name in enumerate(names):
        reason = reason_of(name)
        if reason is not None:
            matrix[i, reasons.index(reason)] = 1.0
    return reasons, matrix


def top_reasons(contributions: np.ndarray, names: Sequence[str] = FEATURES.names, top: int = 3) -> list[str]:
    """Up to ``top`` reasons with positive summed contribution, strongest first."""
    reasons, matrix = _reason_columns(tuple(names))
    totals = np.asarray(contributions, dtype=np.float64) @ matrix
    ranked = sorted((j for j in range(len(reasons)) if totals[j] > 0), key=lambda j: -totals[j])
    return [reasons[j] for j in ranked[:top]]


def explain_sentence(
    contributions: np.ndarray, values: np.ndarray, names: Sequence[str] = FEATURES.names, top: int = 3
) -> str:
    """e.g. "ranked here because: strong title match, 4.6 stars from 31 reviews"."""
    reasons = top_reasons(contributions, names, top + 1)
    v = dict(zip(names, (float(x) for x in values)))
    if v.get("is_tail") != 1.0:  # "is not tail" can push a head item up; that is no reason to give a shopper
        reasons = [r for r in reasons if r != "discovery"]
    reasons = reasons[:top]
    if not reasons:
        return "ranked here on overall relevance"
    return "ranked here because: " + ", ".join(PHRASES[r](v) for r in reasons)
