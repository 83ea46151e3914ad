"""The refit's exposure allocation (``recommend/allocation.py``): swaps only trade a product other lists also show
for one no list shows, cheapest first up to the price, and the served For you applies them."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.recommend import allocation, basket_ranker, lists, served_store
from recsys.recommend.allocation import Swap, allocate
from recsys.recommend.served import ServedModel, fit_served
from tests.recommend.test_basket_ranker import shared_head, weights_of


def ranking(pairs):
    items, probs = zip(*pairs)
    return np.array(items, dtype=np.int64), np.array(probs, dtype=np.float64)


TOY = {
    "a": ranking([(1, 0.9), (2, 0.5), (10, 0.45), (12, 0.01)]),
    "b": ranking([(1, 0.8), (2, 0.6), (11, 0.1)]),
    "c": ranking([(1, 0.7), (3, 0.6), (13, 0.2)]),
}


def test_no_price_no_swap_and_the_cheapest_swap_goes_first():
    sizes = {"a": 1.0, "b": 1.0, "c": 1.0}
    assert allocate(TOY, sizes, k=2, price=0.0) == {}
    # a can trade its shared 2 (0.5) for 10 (0.45) at 0.05; b's trade of 2 would cost 0.5; c's of 1 costs 0.5.
    assert allocate(TOY, sizes, k=2, price=0.06) == {"a": Swap(frozenset({2}), (10,))}
    # Once a dropped 2, b's 2 is shown by b alone: b may only trade its shared 1 (0.8 - 0.1 = 0.7).
    wide = allocate(TOY, sizes, k=2, price=0.6)
    assert wide["a"] == Swap(frozenset({2}), (10,)) and "b" not in wide
    assert wide["c"] == Swap(frozenset({1}), (13,))


def test_the_price_is_per_item_of_the_shoppers_basket():
    # b buys 10 items an order: its trade of the shared 1 (0.8) for 11 (0.1) costs 0.7 / 10 = 0.07 of its recall.
    sizes = {"a": 1.0, "b": 10.0, "c": 1.0}
    assert allocate(TOY, sizes, k=2, price=0.06) == {"a": Swap(frozenset({2}), (10,))}
    assert allocate(TOY, sizes, k=2, price=0.08) == {
        "a": Swap(frozenset({2}), (10,)),
        "b": Swap(frozenset({1}), (11,)),
    }
    assert "b" not in allocate(TOY, {"a": 1.0, "b": 1.0, "c": 1.0}, k=2, price=0.08)


def random_rankings(seed: int, shoppers: int = 60, items: int = 300):
    rng = np.random.default_rng(seed)
    popular = rng.zipf(1.6, size=items).astype(float)
    out = {}
    for s in range(shoppers):
        cands = rng.choice(items, 40, replace=False, p=popular / popular.sum())
        probs = np.sort(rng.beta(0.5, 3.0, size=40))[::-1]
        out[f"s{s}"] = (cands.astype(np.int64), probs)
    return out, {f"s{s}": float(rng.integers(3, 15)) for s in range(shoppers)}


def test_coverage_only_grows_with_the_price_and_no_product_is_lost():
    ranked, sizes = random_rankings(0)
    k = 10
    base = {s: [int(i) for i in items[:k]] for s, (items, _) in ranked.items()}
    base_shown = {i for items in base.values() for i in items}
    distinct = []
    for price in (0.0, 0.002, 0.01, 0.05, 1.0):
        swaps = allocate(ranked, sizes, k, price)
        served = {s: allocation.apply(ranked[s][0], swaps.get(s), k) for s in ranked}
        shown = {i for items in served.values() for i in items}
        assert base_shown <= shown  # a product is dropped only where another list still shows it
        assert all(len(items) == k == len(set(items)) for items in served.values())
        n_swaps = sum(len(s.added) for s in swaps.values())
        assert len(shown) == len(base_shown) + n_swaps  # each swap shows one product no list showed
        for shopper, swap in swaps.items():
            prob = dict(zip(ranked[shopper][0].tolist(), ranked[shopper][1].tolist()))
            lost = sum(prob[i] for i in swap.dropped) - sum(prob[i] for i in swap.added)
            assert 0 <= lost / sizes[shopper] <= price * len(swap.added) + 1e-12
        distinct.append(len(shown))
    assert distinct == sorted(distinct) and distinct[-1] > distinct[0]


def test_apply_replaces_only_the_dropped_items_the_list_shows():
    swap = Swap(frozenset({2, 4}), (9, 8))
    assert allocation.apply(np.array([1, 2, 3, 4, 9, 8, 5]), swap, 4) == [1, 3, 9, 8]  # as allocated
    assert allocation.apply(np.array([1, 2, 3, 4, 9, 8, 5]), swap, 2) == [1, 9]  # shorter: one dropped item shown
    assert allocation.apply(np.array([5, 1, 2, 3, 6]), swap, 4) == [5, 1, 3, 9]  # newer ranking, 9 no candidate
    assert allocation.apply(np.array([5, 1, 3]), None, 2) == [5, 1]


@pytest.mark.parametrize("tail_share", [0.0, 0.5])
def test_the_served_for_you_applies_the_allocation_and_a_saved_version_keeps_it(tmp_path, tail_share):
    items, events = shared_head()
    plain = fit_served(items, events, ranker=True)
    model = fit_served(items, events, ranker=True, novelty_price=0.05, k=4)
    assert plain.allocation == {} and model.allocation
    served_store.save_served(tmp_path, model, {"version": "v1", "created_at": "2026-01-01T00:00:00"})
    loaded = served_store.load_served(tmp_path, "v1")
    assert loaded.allocation == model.allocation
    distinct = {}
    for name, fitted in (("plain", plain), ("allocated", model), ("loaded", loaded)):
        shown: set[int] = set()
        for user in range(40):
            shopper = f"u{user}"
            weights = weights_of(fitted, events, shopper)
            swap = fitted.swap_for([shopper])
            shown_list = lists.for_shopper(fitted, weights, 4, tail_share, shopper, swap)
            picks = {p.index for p in shown_list}
            if swap is not None:  # the tail-share floor never undoes a swap, and an added item says why it is there
                assert set(swap.added) <= picks and not swap.dropped & picks
                assert all(p.reason.endswith(lists.ALLOCATED) == (p.index in swap.added) for p in shown_list)
            shown |= picks
        distinct[name] = len(shown)
    assert distinct["allocated"] == distinct["loaded"] > distinct["plain"]


def test_an_added_item_the_shopper_only_browsed_since_stays_out():
    items, events = shared_head()
    model = fit_served(items, events, ranker=True, novelty_price=0.05, k=4)
    shopper = "u0"
    weights = weights_of(model, events, shopper)
    viewed = next(i for i in range(model.n_items) if i not in weights)
    weights[viewed] = 1.0  # viewed since the refit, never bought
    ranked, _ = basket_ranker.list_order(model.popularity, weights, *model.ranker.probabilities(model, weights))
    order = [int(i) for i in ranked]
    # As if the refit had dropped the list's fourth item for the viewed one, then for the next candidate.
    swap = Swap(frozenset({order[3]}), (viewed, order[4]))
    picks = [p.index for p in lists.for_shopper(model, weights, 4, 0.0, shopper, swap)]
    assert picks == [*order[:3], order[4]]


def test_the_tail_floor_fills_from_outside_the_lists_without_undoing_a_swap(monkeypatch):
    items, events = shared_head()
    model = fit_served(items, events, ranker=True, novelty_price=0.05, k=4)
    listed = set()
    for user in range(40):
        shopper = f"u{user}"
        listed |= {
            p.index
            for p in lists.for_shopper(
                model, weights_of(model, events, shopper), 4, 0.0, shopper, model.swap_for([shopper])
            )
        }
    tail = np.ones(model.n_items, dtype=bool)
    tail[sorted(listed)] = False  # only products no allocated list shows are tail: the floor must bring them in
    monkeypatch.setattr(ServedModel, "is_tail", property(lambda self: tail))
    for shopper, swap in sorted(model.allocation.items()):
        picks = [p.index for p in lists.for_shopper(model, weights_of(model, events, shopper), 4, 0.5, shopper, swap)]
        assert set(swap.added) <= set(picks) and not swap.dropped & set(picks)
        assert len(picks) == 4 and (tail[picks].sum() >= 2 or len(swap.added) > 2)
