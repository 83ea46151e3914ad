"""Query-understanding match features: does the item carry the colour, gender, type and price the query asks for?

The query is read by ``recsys.query.understanding`` in English or Chinese ("红色连衣裙" asks for colour red and type
dresses) against the lexicon's own English vocabulary, so the features need no facet table and mean the same on
the catalog and on CrowdFlower. The item side is its title and description, stemmed (a value matches when all its
words are there; "tshirts" also matches "t-shirt"), and its price.

Per kind: 1 the item's text has the asked value, 0 it does not, NaN the query does not ask (or, for price, the item
has none). ``qm_share`` is the share of asked kinds matched (NaN when nothing is asked).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from recsys.query.understanding import KINDS, PRICE, CatalogVocabulary, Understanding, default_lexicon, stems
from recsys.query.understanding import understand as read_query

NAMES: tuple[str, ...] = ("qm_colour", "qm_gender", "qm_type", "qm_price", "qm_share")


@lru_cache(maxsize=1)
def lexicon_vocabulary() -> CatalogVocabulary:
    """The lexicon's English words as a vocabulary: what a query can be understood as without a catalog."""
    lexicon = default_lexicon()
    values: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, english in lexicon.zh.values():
        values[kind].add(english)
    for kind, synonyms in lexicon.en.items():
        values[kind].update(v for v in synonyms.values() if v)
    return CatalogVocabulary.from_values(values)


@lru_cache(maxsize=256)
def understand(query: str) -> Understanding:
    return read_query(query, lexicon_vocabulary())


@lru_cache(maxsize=65536)  # the same catalog titles come back query after query
def _item_stems(title: str, description: str) -> frozenset[str]:
    text = f"{title} {description}"
    # "T-Shirt" and "tshirt": both spellings' stems, so a joined value matches a hyphenated title.
    return frozenset(stems(text)) | frozenset(stems(text.replace("-", "")))


def query_match_features(
    query: str, titles: Sequence[str], descriptions: Sequence[str], prices: np.ndarray | None
) -> np.ndarray:
    """float32 [n, len(NAMES)]."""
    n = len(titles)
    out = np.full((n, len(NAMES)), np.nan, dtype=np.float32)
    understood = understand(query or "")
    if not understood:
        return out
    asked = {kind: [stems(v) for u in understood.of(kind) for v in (u.catalog_values or (u.value,))] for kind in KINDS}
    for row, (title, description) in enumerate(zip(titles, descriptions, strict=True)):
        have = _item_stems(title, description or "")
        for j, kind in enumerate(KINDS):
            if asked[kind]:
                out[row, j] = any(set(value) <= have for value in asked[kind] if value)
    low, high = understood.price_range
    if (low is not None or high is not None) and prices is not None:
        price = np.asarray(prices, dtype=np.float64).reshape(-1)
        inside = np.ones(n, dtype=bool)
        if low is not None:
            inside &= price >= low
        if high is not None:
            inside &= price <= high
        out[:, len(KINDS)] = np.where(np.isnan(price), np.nan, inside)
    with np.errstate(invalid="ignore"):
        matched = out[:, : len(KINDS) + 1]
        counted = ~np.isnan(matched)
        share = np.nansum(matched, axis=1) / counted.sum(axis=1)
    out[:, -1] = np.where(counted.any(axis=1), share, np.nan)
    return out


__all__ = ["NAMES", "PRICE", "query_match_features"]
