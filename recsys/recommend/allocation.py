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
    -> expected items per order (> 0). Returns shopper -> ``Swap`` for the shoppers whose list changed.

    Both halves of a swap only ever move one way, so each shopper keeps two cursors: a list item stops being shared
    for good (adds only touch products nobody shows), and a candidate once shown stays shown."""
    if price <= 0:
        return {}
    names = sorted(ranked)
    items = {s: [int(i) for i in ranked[s][0]] for s in names}
    probs = {s: [float(p) for p in ranked[s][1]] for s in names}
    size = {s: max(float(basket_size.get(s, 1.0)), 1e-9) for s in names}
    shown: dict[int, int] = {}
    for s in names:
        for i in items[s][:k]:
            shown[i] = shown.get(i, 0) + 1
    out_at = {s: min(k, len(items[s])) - 1 for s in names}  # the least likely list item not yet passed
    in_at = {s: min(k, len(items[s])) for s in names}  # the most likely candidate outside the list not yet passed

    def cheapest(s: str) -> tuple[float, str, int, int] | None:
        mine, o, i = items[s], out_at[s], in_at[s]
        while o >= 0 and shown[mine[o]] < 2:
            o -= 1
        while i < len(mine) and shown.get(mine[i], 0) > 0:
            i += 1
        out_at[s], in_at[s] = o, i
        if o < 0 or i >= len(mine):
            return None
        return (probs[s][o] - probs[s][i]) / size[s], s, o, i

    heap = [c for c in map(cheapest, names) if c is not None]
    heapq.heapify(heap)
    dropped: dict[str, list[int]] = {}
    added: dict[str, list[int]] = {}
    while heap and heap[0][0] <= price:
        _, s, o, i = heapq.heappop(heap)
        now = cheapest(s)  # other swaps since it was queued may have changed what it can do
        if now is None:
            continue
        if now[2:] != (o, i):
            heapq.heappush(heap, now)
            continue
        out, item = items[s][o], items[s][i]
        shown[out] -= 1
        shown[item] = 1  # shown by this list only, so never dropped again
        dropped.setdefault(s, []).append(out)
        added.setdefault(s, []).append(item)  # in rank order: the cursor only moves down the ranking
        out_at[s], in_at[s] = o - 1, i + 1
        nxt = cheapest(s)
        if nxt is not None:
            heapq.heappush(heap, nxt)
    return {s: Swap(frozenset(dropped[s]), tuple(added[s])) for s in added}
