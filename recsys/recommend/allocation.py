"""Exposure allocation: which shopper's "For you" shows which product no other shopper's list shows.

Catalog coverage (distinct products across everyone's top k) is a property of all lists together, so one list at a
time cannot spend relevance on it well: an online "new to the ledger" bonus hands new products to whoever is served
first. Here the refit sees every known shopper's ranked candidates at once and solves, greedily, the Lagrangian

    maximise  sum over shoppers u of expected recall(u)  +  price x (distinct products shown)

with expected recall(u) = sum of the learned next-basket probabilities of u's list / u's expected basket size. A
swap drops from u's list the least likely item that some other list also shows (coverage keeps it) and adds u's
most likely candidate that no list shows (+1 product); it costs (p_out - p_in) / basket size of u. Swaps are made
cheapest first, over all shoppers, while they cost at most ``price``. Numpy in, plain dicts out; the served model
applies the result per shopper (``lists.for_shopper``) and a shopper the refit did not know gets the plain order.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Swap:
    """What the allocation changed in one shopper's list: the items dropped and the items added (best first)."""

    dropped: frozenset[int]
    added: tuple[int, ...]

    def to_json(self) -> dict:
        return {"dropped": sorted(self.dropped), "added": list(self.added)}

    @classmethod
    def from_json(cls, row: dict) -> Swap:
        return cls(frozenset(int(i) for i in row["dropped"]), tuple(int(i) for i in row["added"]))


def apply(ranked: np.ndarray, swap: Swap | None, k: int) -> list[int]:
    """The list a shopper is shown: the top ``k`` of ``ranked`` (best first), each of the swap's dropped items in it
    replaced by the next of its added items, in rank order. With the ranking and length the allocation saw, this is
    exactly the allocated list; a shorter list or a newer ranking (the shopper acted since the refit) replaces only
    the dropped items it still shows."""
    top = [int(i) for i in ranked[:k]]
    if swap is None:
        return top
    kept = [i for i in top if i not in swap.dropped]
    added = [i for i in swap.added if i not in kept][: k - len(kept)]
    chosen = set(kept) | set(added)
    fill = [int(i) for i in ranked[k:] if int(i) not in swap.dropped and int(i) not in chosen]
    position = {int(i): p for p, i in enumerate(ranked)}
    out = kept + added + fill[: k - len(kept) - len(added)]
    return sorted(out, key=lambda i: position.get(i, len(position)))


def allocate(
    ranked: Mapping[str, tuple[np.ndarray, np.ndarray]],
    basket_size: Mapping[str, float],
    k: int,
    price: float,
) -> dict[str, Swap]:
    """``ranked``: shopper -> (candidate items best first, their probabilities, descending); ``basket_size``: shopper
    -> expected items per order (> 0). Returns shopper -> ``Swap`` for the shoppers whose list changed."""
    if price <= 0:
        return {}
    lists = {s: [int(i) for i in items[:k]] for s, (items, _) in ranked.items()}
    prob = {s: dict(zip(items.tolist(), probs.tolist())) for s, (items, probs) in ranked.items()}
    shown: dict[int, int] = {}
    for items in lists.values():
        for i in items:
            shown[i] = shown.get(i, 0) + 1

    def cheapest(shopper: str) -> tuple[float, str, int, int] | None:
        mine = lists[shopper]
        shared = [i for i in mine if shown[i] >= 2]
        if not shared:
            return None
        out = min(shared, key=lambda i: (prob[shopper][i], i))
        current = set(mine)
        for item in ranked[shopper][0].tolist():
            if item not in current and shown.get(item, 0) == 0:
                size = max(float(basket_size.get(shopper, 1.0)), 1e-9)
                return (prob[shopper][out] - prob[shopper][item]) / size, shopper, out, int(item)
        return None

    heap = [s for s in map(cheapest, sorted(lists)) if s is not None]
    heapq.heapify(heap)
    dropped: dict[str, set[int]] = {}
    added: dict[str, list[int]] = {}
    while heap and heap[0][0] <= price:
        cost, shopper, out, item = heapq.heappop(heap)
        now = cheapest(shopper)  # other swaps since it was queued may have changed what it can do
        if now is None:
            continue
        if now[2:] != (out, item):
            heapq.heappush(heap, now)
            continue
        lists[shopper][lists[shopper].index(out)] = item
        shown[out] -= 1
        shown[item] = 1  # an added item is shown once, so it is never dropped again
        dropped.setdefault(shopper, set()).add(out)
        added.setdefault(shopper, []).append(item)
        nxt = cheapest(shopper)
        if nxt is not None:
            heapq.heappush(heap, nxt)
    return {s: Swap(frozenset(dropped[s]), tuple(sorted(added[s], key=lambda i: -prob[s][i]))) for s in added}
