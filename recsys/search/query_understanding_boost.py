"""Understood query parts as soft boosts: items that carry the asked colour, gender, type or price move up.

Per candidate and per understood kind, a match is 1 (the item has one of the named catalog values, or its price is
in range), 0 (it has another), or unknown (the item lacks that attribute, or the understanding names no value this
catalog has); an item of gender Unisex matches Men and Women. The match score is the mean over the kinds asked,
unknown counting 0.5, so an item without a price or colour is neither pushed up nor buried.

``score = z(ranker score) + weight * match score``: z-scored over the candidates, so ``weight`` 1 lets a full match
overtake an item one standard deviation better on text alone (the default, 2, was chosen on validation queries:
``Settings.understanding_boost``). Nothing is filtered: an item that matches nothing
still ranks by its text, just lower (a filter the shopper did not set would hide it silently).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from recsys.query.understanding import KINDS, PRICE, Understanding
from recsys.ranking.features import Priors
from recsys.search.query_parts import standardise
from recsys.search.rank import Ranked, RankingStep
from recsys.search.recall import Recalled
from recsys.search.table import ItemTable

MATCH_KINDS = (*KINDS, PRICE)
UNISEX, ADULT_GENDERS = "Unisex", ("Men", "Women")


def attribute_matches(understanding: Understanding, table: ItemTable, rows: np.ndarray) -> np.ndarray:
    """float32 [n, len(MATCH_KINDS)]: 1 match, 0 mismatch, NaN unknown or not asked."""
    out = np.full((len(rows), len(MATCH_KINDS)), np.nan, dtype=np.float32)
    columns = {"colour": table.colour, "gender": table.gender, "type": table.leaf}
    for j, kind in enumerate(KINDS):
        wanted = {v for u in understanding.of(kind) for v in u.catalog_values}
        if not wanted:
            continue
        if kind == "gender" and wanted & set(ADULT_GENDERS):
            wanted.add(UNISEX)
        values = columns[kind][rows]
        known = values != ""
        out[known, j] = np.isin(values[known], list(wanted))
    low, high = understanding.price_range
    if low is not None or high is not None:
        price = table.price[rows]
        known = ~np.isnan(price)
        inside = np.ones(len(rows), dtype=bool)
        if low is not None:
            inside &= price >= low
        if high is not None:
            inside &= price <= high
        out[known, len(KINDS)] = inside[known]
    return out


def match_score(matches: np.ndarray) -> np.ndarray:
    """Mean match over the kinds asked (unknown = 0.5); zeros when no kind was asked."""
    asked = ~np.all(np.isnan(matches), axis=0)
    if not asked.any():
        return np.zeros(len(matches), dtype=np.float64)
    return np.nan_to_num(matches[:, asked].astype(np.float64), nan=0.5).mean(axis=1)


def boost(ranked: Ranked, matches: np.ndarray, weight: float, k: int) -> Ranked:
    """``ranked`` (every candidate scored) re-ordered by the boosted score, top ``k``; each of those that matches
    an understood part gets a note of what it matched, for ``RankingStep.explain`` to append to its sentence."""
    if weight <= 0 or not len(matches) or np.all(np.isnan(matches)):
        return replace(ranked, order=ranked.order[:k])
    scores = standardise(ranked.scores) + weight * match_score(matches)
    order = np.argsort(-scores, kind="stable")[:k]
    notes = dict(ranked.explanations)
    for pos in order.tolist():
        named = [MATCH_KINDS[j] for j in range(len(MATCH_KINDS)) if matches[pos, j] == 1]
        if named:
            notes[pos] = notes.get(pos, "") + f"; matches the query's {', '.join(named)}"
    return replace(ranked, order=order, scores=scores, explanations=notes)


def rank_understood(
    ranking: RankingStep, got: Recalled, table: ItemTable, priors: Priors | None, k: int, weight: float
) -> Ranked:
    """The ranking step, then the understood parts' boost: the first ``k`` of what a search serves, ordered but
    not explained yet (``RankingStep.explain`` writes the sentences once the page is final)."""
    ranked = ranking.score(got.candidates, priors)
    if not got.understanding or weight <= 0:
        return replace(ranked, order=ranked.order[:k])
    return boost(ranked, attribute_matches(got.understanding, table, got.rows), weight, k)
