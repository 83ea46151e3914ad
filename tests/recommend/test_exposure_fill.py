"""The For you list's exposure-aware fill (docs/recommend.md, "Choosing the served configuration"): across shoppers
with the same history, the slots not taken by repeat purchases rotate to items not shown yet, while every list
keeps the shopper's repeats; the ledger counts what was shown and refuses a bad scale."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recsys.recommend import lists
from recsys.recommend.exposure import ExposureLedger
from tests.recommend.test_served_choice import grocery


def lists_for_twins(model, scale: float, shoppers: int = 6) -> list[list[int]]:
    model.exposure = ExposureLedger(model.n_items, scale)
    bought = model.index_of([0, 1, 2])  # one aisle's staple and two of its items
    weights = dict.fromkeys(bought, 5.0)
    return [[p.index for p in lists.for_shopper(model, weights, 6, tail_share=0.0)] for _ in range(shoppers)]


def test_fill_rotates_across_shoppers_and_keeps_the_repeats():
    model = grocery()
    plain = lists_for_twins(model, math.inf)
    fair = lists_for_twins(model, 0.1)
    bought = set(model.index_of([0, 1, 2]))
    assert all(bought <= set(items) for items in plain + fair)  # repeats are never displaced
    assert all(items == plain[0] for items in plain)  # no discount: every twin sees the same list
    assert len({i for items in fair for i in items}) > len(set(plain[0]))  # the fill moves on to unshown items
    assert fair[0] == plain[0]  # the first shopper, with nothing shown yet, sees the plain order
    assert int(model.exposure.shown.sum()) == 6 * 6 and model.exposure.shown.max() == 6


def test_a_bought_item_still_comes_back_first_when_others_were_shown_it():
    model = grocery()
    model.exposure = ExposureLedger(model.n_items, 0.1)
    staple = model.index_of([0])[0]
    model.exposure.record([staple] * 50)  # shown to many shoppers already
    picks = [p.index for p in lists.for_shopper(model, {staple: 15.0}, 5, tail_share=0.0)]
    assert picks[0] == staple  # the repeat keeps its slot: the discount applies to the fill only
    assert len(set(picks)) == 5


def test_ledger_refuses_a_scale_that_is_not_positive():
    for scale in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="scale must be positive"):
            ExposureLedger(4, scale)
    ledger = ExposureLedger(3, 1.0)
    ledger.record([2, 2, 0])
    assert ledger.discount(np.array([0, 1, 2])).tolist() == [0.5, 1.0, 1 / 3]


def test_a_shoppers_reloads_count_once_and_never_discount_their_own_list():
    model = grocery()
    model.exposure = ExposureLedger(model.n_items, 0.1)
    weights = dict.fromkeys(model.index_of([0, 1, 2]), 5.0)
    first = [p.index for p in lists.for_shopper(model, weights, 6, tail_share=0.0, shopper="ann")]
    again = [[p.index for p in lists.for_shopper(model, weights, 6, tail_share=0.0, shopper="ann")] for _ in range(4)]
    assert all(items == first for items in again)  # reloading keeps the list: their own shows are not a discount
    assert model.exposure.shown.max() == 1 and int(model.exposure.shown.sum()) == 6  # one shopper, counted once
    other = [p.index for p in lists.for_shopper(model, weights, 6, tail_share=0.0, shopper="bob")]
    assert other != first  # another shopper's fill still moves on to items ann was not shown
