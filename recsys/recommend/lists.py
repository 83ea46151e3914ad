"""The lists a shopper sees, each item with a one-line reason: for you, cold start, item neighbours, basket completion.

Every list is the backend's ranking over a candidate pool ``POOL_FACTOR`` x k deep, re-ranked by
``exposure.calibrated_rerank`` to the tail share the app is set to. Indices are the ``ServedModel``'s.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recsys.recommend import allocation, basket_ranker
from recsys.recommend.exposure import calibrated_rerank
from recsys.recommend.hypergraph import HypergraphRecommender, blend
from recsys.recommend.served import EVENT_WEIGHTS, ServedModel
from recsys.recommend.topn import preference_order, top_n

POOL_FACTOR = 5
REASON_ITEMS = 20  # a shopper's latest items considered when saying why an item is there
# Recency: an item's weight is multiplied by RECENCY_DECAY for every RECENCY_ITEMS items the shopper touched after it
# (about one grocery basket), the served form of the suite's per-order decay (chosen on validation, docs/recommend.md).
RECENCY_DECAY = 0.8
RECENCY_ITEMS = 10
# Items with at least a purchase's weight may come back ("buy again": repeats are the strongest grocery signal);
# items only viewed or clicked are left out of the shopper's own list.
REPEAT_MIN_WEIGHT = EVENT_WEIGHTS["purchase"]
ALLOCATED = "; placed for exposure: no other shopper's list shows it"  # the reason's tail for an allocated item


@dataclass(frozen=True)
class Pick:
    index: int
    reason: str


def _quote(model: ServedModel, index: int) -> str:
    return f"“{model.titles[index]}”"


def _ranked(model: ServedModel, scores: np.ndarray, exclude: list[int], k: int) -> list[int]:
    scores = np.array(scores, dtype=np.float64).ravel()
    scores[exclude] = -np.inf
    pool = min(model.n_items, POOL_FACTOR * k)
    top, values = top_n(scores[None, :], pool, preference_order(model.popularity))
    return [int(i) for i, v in zip(top[0], values[0]) if np.isfinite(v)]


def _link(model: ServedModel, source: int, target: int, verb: str) -> str:
    """Why ``target`` follows from ``source``: co-bought, co-viewed, then shared attributes."""
    where = f" {verb}" if verb else ""
    bought = int(model.co_bought[source, target])
    if bought:
        return f"bought together with {_quote(model, source)} in {bought} order{'s' * (bought > 1)}"
    viewed = int(model.co_viewed[source, target])
    if viewed:
        return f"shoppers who viewed {_quote(model, source)} viewed this too ({viewed})"
    shared = model.shared_attributes(source, target)
    if shared:
        return f"same {' · '.join(shared)} as {_quote(model, source)}{where}"
    return f"close to {_quote(model, source)}{where} in what shoppers browse"


def recency_weights(weights: dict[int, float]) -> np.ndarray:
    """``weights`` (oldest first, the newest last) decayed by how many items the shopper touched after each."""
    newer = np.arange(len(weights))[::-1]
    return np.array(list(weights.values()), dtype=np.float64) * RECENCY_DECAY ** (newer / RECENCY_ITEMS)


def _exposure_fill(
    model: ServedModel, scores: np.ndarray, picks: list[int], own: list[int], k: int, shopper: str | None
) -> list[int]:
    """The repeat purchases among ``picks`` first, in their order, then the slots they leave to the shopper's
    other candidates by score x the exposure ledger's discount: among neighbours of about equal score, the one
    fewer shoppers have been shown wins (the repeats are never displaced: they hold the list's recall)."""
    mine = set(own)
    repeats = [i for i in picks if i in mine]
    scores = np.array(scores, dtype=np.float64)
    scores[own] = -np.inf
    pool = np.flatnonzero(np.isfinite(scores) & (scores > 0))
    value = scores[pool] * model.exposure.discount(pool, shopper)
    best = np.argpartition(-value, min(k, pool.size - 1))[:k] if pool.size > k else np.arange(pool.size)
    fill = pool[best[np.argsort(-value[best], kind="stable")]][: k - len(repeats)]
    return repeats + [int(i) for i in fill]


def _learned(model: ServedModel, weights: dict[int, float], shopper: str | None, propagated: np.ndarray) -> np.ndarray:
    """Per item: the ranker's next-basket probability, plus its novelty bonus when no other shopper has been shown
    the item (0 outside the ranker's candidates)."""
    assert model.ranker is not None
    cands, prob = model.ranker.probabilities(model, weights, propagated)
    out = np.zeros(model.n_items)
    out[cands] = prob + model.ranker.novelty * (model.exposure.discount(cands, shopper) >= 1.0)
    return out


def _allocated(
    model: ServedModel,
    weights: dict[int, float],
    propagated: np.ndarray,
    browsed: list[int],
    swap: allocation.Swap,
    hand: list[int],
    k: int,
    tail_share: float,
) -> list[int]:
    """The learned list with the refit's exposure swap applied (``allocation.apply``), over the ranker's raw
    probabilities as the refit allocated them, then the tail-share floor: a missing tail item takes the place of the
    lowest item the swap did not add, so the floor never undoes the allocation, and a dropped item never comes back.
    An added item the shopper has only browsed since the refit stays out, as every browsed item does."""
    assert model.ranker is not None
    cands, prob = model.ranker.probabilities(model, weights, propagated)
    order, _ = basket_ranker.list_order(model.popularity, weights, cands, prob)
    out_of_list = set(browsed)
    swap = allocation.Swap(swap.dropped, tuple(i for i in swap.added if i not in out_of_list))
    picks = allocation.apply(order, swap, k)
    is_tail = model.is_tail
    need = math.ceil(tail_share * len(picks) - 1e-9) - int(is_tail[picks].sum()) if picks else 0
    if need > 0:
        taken = set(picks) | swap.dropped
        pool = [int(i) for i in order if int(i) not in taken] + [i for i in hand if i not in taken]
        extra = list(dict.fromkeys(i for i in pool if is_tail[i]))[:need]
        added = set(swap.added)
        out = set([i for i in reversed(picks) if i not in added and not is_tail[i]][: len(extra)])
        picks = [i for i in picks if i not in out] + extra[: len(out)]
    return calibrated_rerank(picks, is_tail, k, tail_share)


def for_shopper(
    model: ServedModel,
    weights: dict[int, float],
    k: int,
    tail_share: float,
    shopper: str | None = None,
    swap: allocation.Swap | None = None,
) -> list[Pick]:
    """Personal list from the shopper's own weighted items (views, carts, purchases), oldest first: the hypergraph
    blend of their recency-weighted repeats and the propagated, popularity-debiased neighbours. Items bought before
    (at least a purchase's weight) may come back; items only browsed are left out. The slots the repeats leave go
    to neighbours discounted by how often the model's lists have shown them (``ExposureLedger``), and what is shown
    is recorded there, per ``shopper`` when given (their own earlier lists never discount this one). A model fitted
    with its learned re-ranker (``basket_ranker``) orders the list by the ranker's probability instead, and the
    shopper's ``swap`` from the refit's exposure allocation (``ServedModel.swap_for``), if any, replaces the fill."""
    own = list(weights)
    row = sparse.csr_matrix((recency_weights(weights), ([0] * len(own), own)), shape=(1, model.n_items))
    browsed = [i for i in own if weights[i] < REPEAT_MIN_WEIGHT]
    propagated = model.personal.propagate(row)
    personal = model.personal
    scores = blend(row, propagated, personal.popularity, personal.alpha, personal.beta)[0]  # personal.score(row)
    ranked = _ranked(model, scores, browsed, k)
    allocated = swap is not None and model.ranker is not None and model.ranker.floor <= 0
    if allocated:
        assert swap is not None
        picks = _allocated(model, weights, propagated, browsed, swap, ranked, k, tail_share)
    elif model.ranker is not None and model.ranker.floor > 0:  # the ranker's strong picks, then the hand fill
        learned_scores = _learned(model, weights, shopper, propagated)
        strong = _ranked(model, np.where(learned_scores >= model.ranker.floor, learned_scores, -np.inf), browsed, k)
        weak = set(own) - set(strong)
        ranked = strong + [i for i in ranked if i not in weak and i not in set(strong)]
    elif model.ranker is not None:  # the learned re-ranker's order, the hand blend's after its candidates
        learned_scores = _learned(model, weights, shopper, propagated)
        learned = _ranked(model, np.where(learned_scores > 0, learned_scores, -np.inf), browsed, k)
        ranked = learned + [i for i in ranked if i not in set(learned)]
        scores = scores if model.ranker.hand_fill else learned_scores
    if not allocated:
        picks = _exposure_fill(model, scores, calibrated_rerank(ranked, model.is_tail, k, tail_share), own, k, shopper)
        picks = calibrated_rerank(picks + [i for i in ranked if i not in picks], model.is_tail, k, tail_share)
    model.exposure.record(picks, shopper)
    latest = own[-REASON_ITEMS:]
    closeness = model.personal.item_scores(np.array(latest))  # [latest, items]
    spread = set(swap.added) if allocated and swap is not None else set()
    out = []
    for index in picks:
        # An item the exposure allocation put in says so, as a search hit placed for exposure does.
        note = ALLOCATED if index in spread else ""
        if index in weights:
            out.append(Pick(index, "buy again: you have bought this before" + note))
            continue
        source = latest[int(np.argmax(closeness[:, index]))]
        out.append(Pick(index, "for you: " + _link(model, source, index, "you looked at") + note))
    return out


def cold_start(model: ServedModel, k: int, tail_share: float, seed: str) -> list[Pick]:
    """A first list for a shopper with no events: one item per type in turn, each type's best-liked item then items
    nobody has seen much, rotated per shopper (``seed``) so the tail gets real exposure across new visitors."""
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    popularity, tail = model.popularity, model.is_tail
    queues = []
    for members in model.type_groups():  # ascending item indices of one type (items without one: a group too)
        best = int(members[np.argmax(popularity[members])])  # the first of the most popular
        liked = [best] if popularity[best] > 0 else []  # a type nobody has touched is all tail, best included
        rest = members[tail[members] & (members != best)] if liked else members[tail[members]]
        drawn = rng.choice(rest, size=min(k, rest.size), replace=False) if rest.size else rest
        queues.append([*liked, *map(int, drawn)])
    rng.shuffle(queues)
    ranked: list[int] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        ranked += [q[depth] for q in queues if depth < len(q)]
        if len(ranked) >= POOL_FACTOR * k:
            break
    picks = calibrated_rerank(ranked, tail, k, tail_share)
    out = []
    for index in picks:
        kind = model.attributes.value("type", index) or "the catalog"
        why = "a favourite in" if not tail[index] and popularity[index] > 0 else "few shoppers have found this yet, in"
        out.append(Pick(index, f"new here? {why} {kind}"))
    return out


def neighbours(
    model: ServedModel, index: int, k: int, kind: str, tail_share: float, exclude: Sequence[int] = ()
) -> list[Pick]:
    """ "Often bought together" (``kind="bought"``) or "Shoppers also viewed" (``"viewed"``) for one item, leaving
    out ``exclude`` (what the page's earlier lists show already)."""
    backend: HypergraphRecommender = model.bought if kind == "bought" else model.viewed
    ranked = _ranked(model, backend.item_scores(np.array([index])), [index, *exclude], k)
    return [Pick(i, _link(model, index, i, "")) for i in calibrated_rerank(ranked, model.is_tail, k, tail_share)]


def basket_completion(model: ServedModel, basket: list[int], k: int, tail_share: float) -> list[Pick]:
    """What goes with the cart: the basket hypergraph propagated from the cart's items."""
    row = sparse.csr_matrix((np.ones(len(basket)), ([0] * len(basket), basket)), shape=(1, model.n_items))
    propagated = model.bought.propagate(row)[0] / np.power(1.0 + model.popularity, model.bought.alpha)
    ranked = _ranked(model, propagated, basket, k)
    closeness = model.bought.item_scores(np.array(basket))
    out = []
    for index in calibrated_rerank(ranked, model.is_tail, k, tail_share):
        source = basket[int(np.argmax(closeness[:, index]))]
        out.append(Pick(index, "completes your basket: " + _link(model, source, index, "in your cart")))
    return out
