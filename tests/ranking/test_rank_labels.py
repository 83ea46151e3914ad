import numpy as np
import pandas as pd
import pytest

from recsys.ranking.judgments import attribute_weak_labels, click_labels, graded_labels, position_propensity
from recsys.ranking.ndcg import dcg, ndcg_per_query


def test_graded_labels_shift_to_zero_based():
    labels = graded_labels([1, 4, 2])
    np.testing.assert_array_equal(labels.values, [0, 3, 1])
    assert labels.weak is False
    with pytest.raises(ValueError):
        graded_labels([0, 2])


def test_position_propensity_power_law():
    np.testing.assert_allclose(position_propensity(np.array([1, 2, 4]), eta=1.0), [1, 0.5, 0.25])
    np.testing.assert_allclose(position_propensity(np.array([4]), eta=0.5), [0.5])


def test_click_labels_weight_deep_clicks_more():
    log = pd.DataFrame(
        {
            "query": ["q"] * 8,
            "item_id": [1, 1, 2, 2, 3, 3, 4, 4],
            "position": [1, 1, 4, 4, 2, 2, 3, 3],
            "clicked": [1, 0, 1, 0, 1, 1, 0, 0],
        }
    )
    frame, labels = click_labels(log, eta=1.0)
    ips = dict(zip(frame["item_id"], frame["ips_ctr"]))
    # item 1: one click at rank 1 over 2 impressions = 0.5; item 2: one click at rank 4 = 4/2; item 3: 2*2/2
    assert ips == pytest.approx({1: 0.5, 2: 2.0, 3: 2.0, 4: 0.0})
    assert dict(zip(frame["item_id"], frame["label"])) == {1: 1, 2: 3, 3: 3, 4: 0}
    assert labels.weak is False


def test_attribute_weak_labels_are_flagged_weak():
    labels = attribute_weak_labels(
        {"colour": "Red", "size": "M"}, [{"colour": "red", "size": "m"}, {"colour": "blue"}, {"colour": "RED"}, {}]
    )
    np.testing.assert_array_equal(labels.values, [2, 0, 1, 1])
    assert labels.weak is True


def test_ndcg_known_values():
    assert dcg(np.array([3, 0]), 10) == pytest.approx(7.0)
    # ideal [3, 1] -> 7 + 1/log2(3); ranked [1, 3] -> 1 + 7/log2(3)
    got = ndcg_per_query(np.array([3, 1]), np.array([0.0, 1.0]), np.array([2]))
    assert got[0] == pytest.approx((1 + 7 / np.log2(3)) / (7 + 1 / np.log2(3)))
    # a query with nothing relevant is skipped, ties keep input order
    got = ndcg_per_query(np.array([0, 0, 1, 0]), np.zeros(4), np.array([2, 2]))
    assert got.tolist() == pytest.approx([1.0])
