"""The learned next-basket re-ranker (``recommend/basket_ranker.py``) on generated baskets: its training rows never
see the order they predict, it learns a planted signal the hand blend cannot see, and the served For you uses it."""

from __future__ import annotations

import numpy as np

from recsys.recommend import basket_ranker, lists, served_store
from recsys.recommend.exposure import ExposureLedger
from recsys.recommend.served import (
    EVENT_WEIGHTS,
    FILL_EXPOSURE_SCALE,
    EventRow,
    ItemRow,
    fit_served,
    ranker_training_rows,
)

N_ITEMS, N_SHOPPERS, N_ORDERS, SET = 90, 48, 6, 3


def alternating(orders: int = N_ORDERS, last_items: dict[int, list[int]] | None = None):
    """Each shopper has two item sets bought in turn: set A in odd orders, set B in even ones, plus one random item
    per order. So the next basket is always the set *not* bought last: recency alone gets it wrong."""
    rng = np.random.default_rng(0)
    items = [ItemRow(i, f"item {i}", f"food > aisle {i // 10}", "", {}) for i in range(N_ITEMS)]
    events, nexts = [], {}
    for user in range(N_SHOPPERS):
        chosen = rng.choice(N_ITEMS, 2 * SET, replace=False)
        sets = (chosen[:SET].tolist(), chosen[SET:].tolist())
        for order in range(1, orders + 1):
            basket = [*sets[order % 2], int(rng.integers(N_ITEMS))]
            if order == orders and last_items is not None:
                basket = last_items.get(user, basket)
            oid = f"o{user}-{order}"
            events += [EventRow(f"u{user}", oid, i, "purchase", oid) for i in dict.fromkeys(basket)]
        nexts[user] = set(sets[orders % 2])  # the last order's set
    return items, events, nexts


def weights_of(model, events, shopper):
    weights: dict[int, float] = {}
    for e in events:
        if e.shopper == shopper:
            index = model.index_of([e.item_id])[0]
            weights[index] = weights.pop(index, 0.0) + EVENT_WEIGHTS[e.event]
    return weights


def test_training_rows_do_not_depend_on_the_target_order_only_their_labels_do():
    items, events, _ = alternating()
    # The same shoppers, their last (target) orders holding other items: features must be identical.
    swapped = {u: [(u * 7 + j) % N_ITEMS for j in range(4)] for u in range(N_SHOPPERS)}
    items_b, events_b, _ = alternating(last_items=swapped)
    model_a, model_b = fit_served(items, events, ranker=False), fit_served(items_b, events_b, ranker=False)
    x_a, y_a = ranker_training_rows(model_a, items, events)
    x_b, y_b = ranker_training_rows(model_b, items_b, events_b)
    assert x_a.shape[0] > 0 and x_a.shape == x_b.shape
    np.testing.assert_array_equal(x_a, x_b)
    assert not np.array_equal(y_a, y_b)
    assert y_a.sum() > 0


def test_training_split_holds_out_each_shoppers_last_order():
    shoppers = ["a", "a", "a", "b", "a", "b", "b"]
    items = [1, 2, 3, 1, 4, 5, 6]
    kinds = ["purchase", "purchase", "view", "purchase", "purchase", "purchase", "purchase"]
    orders = ["a1", "a1", "", "b1", "a2", "b2", "b2"]
    split = basket_ranker.training_split(shoppers, items, kinds, orders, EVENT_WEIGHTS, window=200)
    assert split.targets == {"a": frozenset({4}), "b": frozenset({5, 6})}
    assert split.history == {"a": {1: 5.0, 2: 5.0, 3: 1.0}, "b": {1: 5.0}}
    assert split.keep.tolist() == [True, True, True, True, False, False, False]
    window = basket_ranker.training_split(shoppers, items, kinds, orders, EVENT_WEIGHTS, window=2)
    assert window.history["a"] == {2: 5.0, 3: 1.0}  # the newest events before the target only


def test_the_ranker_learns_the_planted_alternation_and_for_you_serves_it():
    items, events, last = alternating(N_ORDERS + 1)
    held_out = [e for e in events if not e.order_id.endswith(f"-{N_ORDERS + 1}")]  # predict the last order
    model = fit_served(items, held_out, ranker=True)
    assert model.ranker is not None and model.ranker.rows > 0
    learned_hits, hand_hits = 0, 0
    for user in range(N_SHOPPERS):
        weights = weights_of(model, held_out, f"u{user}")
        truth = set(model.index_of(sorted(last[user])))
        learned = [p.index for p in lists.for_shopper(model, weights, SET, tail_share=0.0)]
        ranker, model.ranker = model.ranker, None
        hand = [p.index for p in lists.for_shopper(model, weights, SET, tail_share=0.0)]
        model.ranker = ranker
        learned_hits += len(truth & set(learned))
        hand_hits += len(truth & set(hand))
    total = N_SHOPPERS * SET
    assert learned_hits / total >= 0.8  # the set bought two orders ago
    assert hand_hits / total <= 0.4  # recency puts the set bought last first


def test_no_ranker_without_enough_shoppers_or_when_turned_off():
    items, events, _ = alternating()
    few = [e for e in events if int(e.shopper[1:]) < basket_ranker.MIN_TRAIN_SHOPPERS - 1]
    assert fit_served(items, few, ranker=True).ranker is None
    assert fit_served(items, events).ranker is None  # off by default: the hand blend serves
    assert fit_served(items, events, ranker=True).ranker is not None


def test_a_saved_version_serves_the_same_learned_list(tmp_path):
    items, events, _ = alternating()
    model = fit_served(items, events, ranker=True)
    served_store.save_served(tmp_path, model, {"version": "v1", "created_at": "2026-01-01T00:00:00"})
    loaded = served_store.load_served(tmp_path, "v1")
    assert loaded.ranker is not None
    weights = weights_of(model, events, "u3")
    cands, prob = model.ranker.probabilities(model, weights)
    cands_b, prob_b = loaded.ranker.probabilities(loaded, weights)
    np.testing.assert_array_equal(cands, cands_b)
    np.testing.assert_allclose(prob, prob_b)
    assert [p.index for p in lists.for_shopper(model, weights, 5, 0.0)] == [
        p.index for p in lists.for_shopper(loaded, weights, 5, 0.0)
    ]


def shared_head():
    """40 shoppers, each buying two of five head items and two of their four own items per order."""
    rng = np.random.default_rng(1)
    items = [ItemRow(i, f"item {i}", f"food > aisle {i // 10}", "", {}) for i in range(200)]
    events = []
    for user in range(40):
        aisle = 1 + user % 19
        own = rng.choice(np.arange(aisle * 10, aisle * 10 + 10), 4, replace=False)
        for order in range(5):
            oid = f"o{user}-{order}"
            basket = [*rng.choice(5, 2, replace=False), *rng.choice(own, 2, replace=False)]
            events += [EventRow(f"u{user}", oid, int(i), "purchase", oid) for i in basket]
    return items, events


def test_the_novelty_bonus_spreads_lists_over_more_products():
    items, events = shared_head()
    model = fit_served(items, events, ranker=True)
    assert model.ranker is not None
    shown = {}
    for bonus in (0.0, 1.0):
        model.ranker.novelty = bonus
        model.exposure = ExposureLedger(model.n_items, FILL_EXPOSURE_SCALE)
        distinct: set[int] = set()
        for user in range(40):
            picks = lists.for_shopper(model, weights_of(model, events, f"u{user}"), 4, 0.0, f"u{user}")
            distinct |= {p.index for p in picks}
        shown[bonus] = len(distinct)
    assert shown[1.0] > shown[0.0] + 20  # measured: 160 against 102
