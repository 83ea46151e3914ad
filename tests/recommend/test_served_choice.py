"""The served configuration's mechanisms on a small generated grocery (docs/recommend.md, "Choosing the served
configuration"): bought items come back while browsed ones stay out, newer items outrank older ones, and the
personal backend's popularity debias spreads exposure across shoppers while each keeps their strongest item."""

from __future__ import annotations

import math

import numpy as np

from recsys.recommend import lists
from recsys.recommend.exposure import ExposureLedger
from recsys.recommend.served import EventRow, ItemRow, fit_served

N_AISLES, PER_AISLE = 6, 10  # 60 items; item 0 of each aisle is its staple, bought in most orders
BANANA = N_AISLES * PER_AISLE  # one more item, in every order of every shopper: the catalogue's head


def grocery(personal_alpha: float = 1.0):
    rng = np.random.default_rng(0)
    items = [ItemRow(i, f"item {i}", f"food > aisle {i // PER_AISLE}", "", {}) for i in range(BANANA)]
    items.append(ItemRow(BANANA, "bananas", "fruit > bananas", "", {}))
    events = []
    for user in range(40):
        aisle = user % N_AISLES
        staple, own = aisle * PER_AISLE, aisle * PER_AISLE + rng.choice(np.arange(1, PER_AISLE), 3, replace=False)
        for order in range(4):
            basket = [BANANA, staple, *rng.choice(own, 2, replace=False)]
            events += [EventRow(f"u{user}", f"o{user}-{order}", int(i), "purchase", f"o{user}-{order}") for i in basket]
    return fit_served(items, events, personal_alpha=personal_alpha)


def test_bought_items_come_back_and_browsed_items_stay_out():
    model = grocery()
    weights = {model.index_of([3])[0]: 1.0, model.index_of([5])[0]: 5.0}  # item 3 viewed, item 5 bought
    picks = lists.for_shopper(model, weights, 8, tail_share=0.0)
    shown = {p.index: p.reason for p in picks}
    assert model.index_of([5])[0] in shown and shown[model.index_of([5])[0]].startswith("buy again")
    assert model.index_of([3])[0] not in shown


def test_the_newer_of_two_equal_purchases_ranks_first():
    model = grocery()
    first, second = model.index_of([1, 2])  # same aisle, bought once each
    between = model.index_of(range(PER_AISLE * 3, PER_AISLE * 4))  # a basket's worth of other items in between
    for older, newer in ((first, second), (second, first)):
        weights = dict.fromkeys([older, *between, newer], 5.0)
        ranked = [p.index for p in lists.for_shopper(model, weights, 15, tail_share=0.0)]
        assert ranked.index(newer) < ranked.index(older)  # the one bought last comes first


def test_debias_spreads_exposure_while_each_shopper_keeps_their_strongest_item():
    coverage, banana_lists = {}, {}
    for alpha in (0.0, 1.0):
        model = grocery(personal_alpha=alpha)
        model.exposure = ExposureLedger(model.n_items, math.inf)  # the debias alone, without the exposure fill
        shown = set()
        for user in range(N_AISLES):
            staple, extra = user * PER_AISLE, user * PER_AISLE + 1
            weights = {model.index_of([extra])[0]: 5.0, model.index_of([staple])[0]: 15.0}  # the staple: 3 buys
            picks = [p.index for p in lists.for_shopper(model, weights, 8, tail_share=0.0)]
            assert model.index_of([staple])[0] in picks
            shown.update(picks)
            banana_lists[alpha] = banana_lists.get(alpha, 0) + (model.index_of([BANANA])[0] in picks)
        coverage[alpha] = len(shown)
    assert banana_lists[0.0] > banana_lists[1.0]  # the head item every list would show gives way ...
    assert coverage[1.0] > coverage[0.0]  # ... to items of each shopper's own aisle
