"""The tail-share knob: 0 keeps the relevance order, and more share never means fewer tail items."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.recommend.exposure import calibrated_rerank, exposure_stats, gini

RNG = np.random.default_rng(0)
IS_TAIL = np.arange(200) >= 40  # items 0..39 are the head
# Relevance lists that favour the head, as a popularity-biased recommender does.
LISTS = [list(np.argsort(-(RNG.random(200) + 1.5 * ~IS_TAIL))) for _ in range(50)]


def tail_share(setting: float) -> float:
    return exposure_stats([calibrated_rerank(ranked, IS_TAIL, 20, setting) for ranked in LISTS], IS_TAIL)["tail_share"]


def test_zero_keeps_the_relevance_order():
    assert calibrated_rerank(LISTS[0], IS_TAIL, 20, 0.0) == LISTS[0][:20]


def test_the_knob_raises_the_tail_share_monotonically_and_reaches_its_target():
    shares = [tail_share(s) for s in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert shares[0] < 0.1  # the biased lists are head first
    assert all(a < b for a, b in zip(shares, shares[1:]))
    for setting, share in zip((0.25, 0.5, 0.75, 1.0), shares[1:]):
        assert share >= setting - 1e-9


def test_every_prefix_meets_the_floor_and_items_stay_unique():
    out = calibrated_rerank(LISTS[1], IS_TAIL, 20, 0.5)
    assert len(set(out)) == 20 and set(out) <= set(LISTS[1])
    for n in range(1, 21):
        assert IS_TAIL[out[:n]].sum() >= np.ceil(0.5 * n)


def test_runs_out_of_tail_gracefully_and_refuses_bad_settings():
    ranked = [0, 1, 2, 45]  # one tail item only
    assert calibrated_rerank(ranked, IS_TAIL, 4, 1.0) == [45, 0, 1, 2]
    with pytest.raises(ValueError):
        calibrated_rerank(ranked, IS_TAIL, 4, 1.5)


def test_gini_and_coverage():
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)
    stats = exposure_stats([[0, 1], [1, 2]], np.array([False, True, True, True]))
    assert stats == pytest.approx({"tail_share": 0.75, "coverage": 0.75, "gini": gini(np.array([1, 2, 1, 0]))})
