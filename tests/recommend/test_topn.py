import numpy as np
import pytest

from recsys.recommend.topn import exclude, preference_order, top_n
from tests.recommend.toy import csr


def _reference(scores: np.ndarray, n: int, order: np.ndarray) -> np.ndarray:
    rank = np.empty(order.size, dtype=int)
    rank[order] = np.arange(order.size)
    return np.array([np.lexsort((rank, -row))[:n] for row in scores])


def test_ties_go_to_the_preferred_item_then_lower_index():
    scores = np.array([[0.0, 1.0, 0.0, 1.0, 0.0]])
    order = preference_order(np.array([0, 0, 5, 0, 9]))  # item 4 most popular, then 2
    ids, values = top_n(scores, 4, order)
    assert ids.tolist() == [[1, 3, 4, 2]]
    assert values.tolist() == [[1.0, 1.0, 0.0, 0.0]]


@pytest.mark.parametrize("n", [1, 3, 7, 30])
def test_matches_a_full_sort_with_many_ties(n):
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(25, 30)).astype(float)  # heavy ties at every cut
    order = preference_order(rng.integers(0, 10, size=30))
    ids, values = top_n(scores, n, order)
    assert (ids == _reference(scores, n, order)).all()
    assert (values == np.take_along_axis(scores, ids, axis=1)).all()


def test_exclude_sets_liked_to_minus_infinity_and_n_is_checked():
    scores = exclude(np.ones((2, 3)), csr([[0], [1, 2]], 3))
    assert np.isinf(scores).tolist() == [[True, False, False], [False, True, True]]
    with pytest.raises(ValueError):
        top_n(scores, 4)
