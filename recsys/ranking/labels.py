"""Relevance labels for LambdaRank from three sources: graded judgments, click logs, attribute agreement.

LambdaRank needs small non-negative integer grades per (query, item). Each helper returns ``Labels`` with
``weak=True`` when the grades are a heuristic rather than an observation, so trainers can keep them apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Labels:
    values: np.ndarray  # int32 grades, 0 = irrelevant
    weak: bool = False
    source: str = ""


def graded_labels(relevance: Sequence[int] | np.ndarray, lowest: int = 1) -> Labels:
    """Human grades (CrowdFlower median_relevance 1-4) -> 0-based grades (0-3)."""
    rel = np.asarray(relevance)
    if not np.all(np.equal(np.mod(rel, 1), 0)) or (rel < lowest).any():
        raise ValueError(f"grades must be integers >= {lowest}")
    return Labels((rel - lowest).astype(np.int32), weak=False, source="judgments")


def position_propensity(position: np.ndarray, eta: float = 1.0) -> np.ndarray:
    """P(examined | position) = (1 / position) ** eta, position 1-based (the power-law examination model).

    eta = 1 is the usual starting point; estimate it from a result-randomisation experiment when one runs.
    """
    position = np.asarray(position, dtype=np.float64)
    if (position < 1).any():
        raise ValueError("positions are 1-based")
    return position**-eta


def click_labels(log: pd.DataFrame, eta: float = 1.0) -> tuple[pd.DataFrame, Labels]:
    """Debiased grades from an impression log with columns query, item_id, position (1-based), clicked (0/1).

    Each click is weighted by 1 / propensity(position) (inverse propensity scoring), so a click at rank 8
    counts more than one at rank 1, which users click regardless. Per (query, item): ``ips_ctr`` =
    sum(clicked / propensity) / impressions. Grade 0 = never clicked; clicked pairs get 1-3 by tertile of
    ips_ctr among clicked pairs, so grades follow the log's own scale instead of fixed thresholds.
    """
    weights = log["clicked"].to_numpy(dtype=np.float64) / position_propensity(log["position"].to_numpy(), eta)
    frame = (
        log.assign(_w=weights)
        .groupby(["query", "item_id"], sort=False)
        .agg(impressions=("clicked", "size"), clicks=("clicked", "sum"), ips=("_w", "sum"))
        .reset_index()
    )
    frame["ips_ctr"] = frame["ips"] / frame["impressions"]
    grades = np.zeros(len(frame), dtype=np.int32)
    clicked = frame["clicks"].to_numpy() > 0
    if clicked.any():
        edges = np.quantile(frame.loc[clicked, "ips_ctr"], [1 / 3, 2 / 3])
        grades[clicked] = 1 + np.searchsorted(edges, frame.loc[clicked, "ips_ctr"].to_numpy(), side="right")
    frame["label"] = grades
    return frame.drop(columns="ips"), Labels(grades, weak=False, source=f"clicks-ips-eta{eta:g}")


def attribute_weak_labels(query_attributes: Mapping[str, Any], item_attributes: Sequence[Mapping[str, Any]]) -> Labels:
    """Weak grades from attribute agreement: 0 = an attribute the query names differs, 2 = all agree, 1 else.

    Values compare case-insensitively; an item that lacks an attribute neither agrees nor conflicts.
    """
    wanted = {k: str(v).strip().lower() for k, v in query_attributes.items()}
    grades = np.ones(len(item_attributes), dtype=np.int32)
    for i, attrs in enumerate(item_attributes):
        have = {k: str(attrs[k]).strip().lower() for k in wanted if attrs.get(k) is not None}
        if any(have[k] != wanted[k] for k in have):
            grades[i] = 0
        elif wanted and len(have) == len(wanted):
            grades[i] = 2
    return Labels(grades, weak=True, source="attribute-agreement")


def graded_attribute_labels(
    query_attributes: Mapping[str, str], item_attributes: Mapping[str, np.ndarray], primary: str = "article_type"
) -> Labels:
    """Weak graded labels for a catalog query: 0 = the item is another kind of product, else 1 + the number of
    the query's other named attributes (colour, gender) the item agrees with.

    "women blue dresses": a women's blue dress 3, a women's red dress 2, a red dress for men 1, a blue shirt 0.
    The product kind gates everything because a blue shirt is no answer to a dress query, whatever its colour.
    ``item_attributes`` maps each attribute to an array over the candidates; comparisons ignore case and
    surrounding space. A query without the primary attribute grades by agreement alone (0..n attributes).
    """

    def norm(values: np.ndarray) -> np.ndarray:
        return np.char.lower(np.char.strip(np.asarray(values, dtype=str)))

    wanted = {k: str(v).strip().lower() for k, v in query_attributes.items() if str(v).strip()}
    n = len(next(iter(item_attributes.values()))) if item_attributes else 0
    grades = np.zeros(n, dtype=np.int32)
    for key, value in wanted.items():
        if key != primary:
            grades += norm(item_attributes[key]) == value
    if primary in wanted:
        grades = np.where(norm(item_attributes[primary]) == wanted[primary], grades + 1, 0).astype(np.int32)
    return Labels(grades, weak=True, source="attribute-agreement")
