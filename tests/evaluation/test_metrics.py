"""Metric functions against values worked out by hand on tiny inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recsys.evaluation import metrics as m

L3 = math.log2(3)  # discount of position 2
L4 = 2.0  # discount of position 3


def test_recall_counts_overlap_over_relevant():
    assert m.recall_at_k(["a", "b", "c", "d"], {"b", "d", "z"}, 2) == pytest.approx(1 / 3)
    assert m.recall_at_k(["a", "b", "c", "d"], {"b", "d", "z"}, 4) == pytest.approx(2 / 3)


def test_hit_rate_and_mrr():
    ranked = ["a", "b", "c"]
    assert m.hit_rate_at_k(ranked, {"c"}, 2) == 0.0
    assert m.hit_rate_at_k(ranked, {"c"}, 3) == 1.0
    assert m.mrr_at_k(ranked, {"c", "b"}, 3) == pytest.approx(0.5)
    assert m.mrr_at_k(ranked, {"c"}, 2) == 0.0


def test_ndcg_graded_hand_value():
    # DCG = 0/1 + 3/log2(3) + 7/log2(4); ideal = 7/1 + 3/log2(3)
    got = m.ndcg_at_k(["a", "b", "c"], {"a": 0.0, "b": 3.0, "c": 7.0}, 3)
    assert got == pytest.approx((3 / L3 + 7 / L4) / (7 + 3 / L3))


def test_ndcg_ideal_is_not_capped_by_k():
    # three relevant items ranked first reach 1.0 at k=10 (ideal built from the 3 gains, not 10 slots)
    assert m.ndcg_at_k(["x", "y", "z", "n1", "n2"], {"x", "y", "z"}, 10) == pytest.approx(1.0)
    # one relevant at position 2 among 3: (1/log2 3) / (1 + 1/log2 3 + 1/2)
    got = m.ndcg_at_k(["n", "x", "n2"], {"x", "y", "z"}, 3)
    assert got == pytest.approx((1 / L3) / (1 + 1 / L3 + 1 / L4))


def test_ndcg_ideal_truncates_at_k():
    # 3 relevant, k=1: the ideal is one item with gain 1, so a hit at 1 is perfect
    assert m.ndcg_at_k(["x"], {"x", "y", "z"}, 1) == pytest.approx(1.0)


def test_undefined_queries_are_nan_and_skipped():
    assert math.isnan(m.recall_at_k(["a"], set(), 5))
    assert math.isnan(m.ndcg_at_k(["a"], {"a": 0.0}, 5))
    assert m.mean_metric([1.0, math.nan, 0.0]) == pytest.approx(0.5)
    assert m.summarize([1.0, math.nan, 0.0])["n"] == 2


def test_r_precision():
    assert m.r_precision(["a", "x", "b", "c"], {"a", "b", "c"}) == pytest.approx(2 / 3)
    assert m.r_precision(["a", "b"], {"a", "b"}) == 1.0


def test_exponential_gain_and_rank_by_scores():
    assert m.exponential_gain([1, 2, 3, 4]).tolist() == [0.0, 1.0, 3.0, 7.0]
    # ties keep input order
    assert m.rank_by_scores(["a", "b", "c"], [0.5, 0.9, 0.5]) == ["b", "a", "c"]
    with pytest.raises(ValueError):
        m.rank_by_scores(["a"], [1.0, 2.0])


def test_coverage_and_gini():
    recs = [["a", "b"], ["a", "c"]]
    assert m.catalog_coverage(recs, catalog_size=5) == pytest.approx(3 / 5)
    assert m.catalog_coverage(recs, catalog_size=5, k=1) == pytest.approx(1 / 5)
    assert m.gini([1, 1, 1]) == pytest.approx(0.0)
    assert m.gini([0, 0, 1]) == pytest.approx(2 / 3)
    # sum|xi-xj| / (2 n^2 mean) = 8 / 36
    assert m.gini([3, 1, 2]) == pytest.approx(8 / 36)
    # counts a=2, b=1, c=1, d=0 -> sorted [0,1,1,2]: 2*(0+2+3+8)/(4*4) - 5/4 = 0.375
    assert m.recommendation_gini(recs, ["a", "b", "c", "d"]) == pytest.approx(0.375)


def test_per_query_and_summary():
    values = m.per_query(m.recall_at_k, [["a", "b"], ["c"]], [{"a"}, {"d"}], 2)
    assert values.tolist() == [1.0, 0.0]
    s = m.summarize(values)
    assert s["mean"] == pytest.approx(0.5)
    assert s["std_err"] == pytest.approx(np.std([1.0, 0.0], ddof=1) / math.sqrt(2))
    with pytest.raises(ValueError):
        m.per_query(m.recall_at_k, [["a"]], [], 1)
