"""Exposure-aware re-ranking: one knob, the tail's share of the top-k, applied to any ranked list.

``calibrated_rerank`` is a greedy floor on the tail's share: walking down the k positions, a tail item is placed
whenever the list so far holds fewer than ``ceil(tail_share * positions)`` tail items (the best remaining tail
candidate), otherwise the best remaining candidate of either kind. At 0 it returns the relevance order unchanged;
raising it can only add tail items, so the tail share of a list never falls as the knob rises (a test checks it).
``exposure_stats`` measures lists the way the trade-off benchmark reports them. ``ExposureLedger`` counts what the
personal lists have shown across shoppers, so the slots not taken by repeat purchases go to items shown least.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np


def calibrated_rerank(
    ranked: Sequence[int], is_tail: np.ndarray, k: int, tail_share: float, round_up: bool = True
) -> list[int]:
    """The first ``k`` of ``ranked`` (item indices, best first) re-ordered so at least ``tail_share`` of each prefix
    is tail (while tail candidates last). ``round_up`` False floors the prefix's quota instead of ceiling it: the
    first tail slot is then position ``1 / tail_share``, never the top (search keeps its best match first)."""
    if not 0 <= tail_share <= 1:
        raise ValueError(f"tail_share must be in [0, 1], got {tail_share}")
    candidates = [int(i) for i in ranked]
    if tail_share == 0:
        return candidates[:k]
    tail = [i for i in candidates if is_tail[i]]
    out: list[int] = []
    used: set[int] = set()
    tail_next = 0  # position in ``tail`` of the best tail candidate not placed yet
    overall_next = 0
    tail_placed = 0
    while len(out) < min(k, len(candidates)):
        while tail_next < len(tail) and tail[tail_next] in used:
            tail_next += 1
        while overall_next < len(candidates) and candidates[overall_next] in used:
            overall_next += 1
        quota = tail_share * (len(out) + 1)
        need_tail = tail_placed < (math.ceil(quota - 1e-9) if round_up else math.floor(quota + 1e-9))
        if need_tail and tail_next < len(tail):
            pick = tail[tail_next]
        else:
            pick = candidates[overall_next]
        out.append(pick)
        used.add(pick)
        tail_placed += bool(is_tail[pick])
    return out


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of exposure counts over the whole catalog (0 = equal exposure, 1 = one item has it all)."""
    values = np.sort(np.asarray(counts, dtype=np.float64))
    if values.size == 0 or values.sum() == 0:
        return 0.0
    ranks = np.arange(1, values.size + 1)
    return float((2 * ranks - values.size - 1) @ values / (values.size * values.sum()))


def exposure_stats(lists: Sequence[Sequence[int]], is_tail: np.ndarray) -> dict[str, float]:
    """Tail share of impressions, catalog coverage and exposure Gini of a set of recommendation lists."""
    shown = np.zeros(is_tail.size, dtype=np.int64)
    for items in lists:
        np.add.at(shown, np.asarray(items, dtype=np.int64), 1)
    total = int(shown.sum())
    return {
        "tail_share": float(shown[is_tail].sum() / total) if total else 0.0,
        "coverage": float((shown > 0).mean()) if shown.size else 0.0,
        "gini": gini(shown),
    }


class ExposureLedger:
    """How often each item has been shown in the personal lists served so far (one model's lifetime: a refit starts
    a new ledger). ``discount`` is ``1 / (1 + shown / scale)``: an item already shown to other shoppers gives way to
    one nobody has been shown yet, amortising exposure across shoppers (Biega et al.'s amortised fairness, in its
    simplest greedy form). With a ``shopper`` key, ``shown`` counts distinct shoppers: a shopper's reloads count an
    item once, and their own shows never discount their own list (else each reload would push their interests out
    for items nobody else has seen). Without a key (offline replays) every list counts as a new shopper's."""

    def __init__(self, n_items: int, scale: float) -> None:
        if not scale > 0:
            raise ValueError(f"scale must be positive (inf: no discount), got {scale}")
        self.shown = np.zeros(n_items, dtype=np.int64)
        self.scale = scale
        self._seen: dict[str, set[int]] = {}  # shopper -> items already counted for them
        self._lock = threading.Lock()

    def discount(self, items: np.ndarray, shopper: str | None = None) -> np.ndarray:
        items = np.asarray(items, dtype=np.int64)
        shown = self.shown[items].astype(np.float64)
        mine = self._seen.get(shopper) if shopper is not None else None
        if mine:
            shown -= np.fromiter((int(i) in mine for i in items), dtype=bool, count=items.size)
        return 1.0 / (1.0 + shown / self.scale)

    def record(self, items: Sequence[int], shopper: str | None = None) -> None:
        with self._lock:
            if shopper is None:
                np.add.at(self.shown, np.asarray(items, dtype=np.int64), 1)
                return
            mine = self._seen.setdefault(shopper, set())
            new = {int(i) for i in items} - mine
            mine |= new
            np.add.at(self.shown, np.fromiter(new, dtype=np.int64, count=len(new)), 1)
