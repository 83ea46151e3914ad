import numpy as np
import pytest
from scipy import sparse

from recsys.recommend.candidates import CandidateBlend, own_items
from recsys.recommend.hypergraph import blend, propagated_part, repeat_part
from recsys.recommend.topn import preference_order, top_n


@pytest.mark.parametrize("alpha,beta", [(0.0, 0.0), (0.0, 0.1), (0.5, 0.3), (1.0, 1.0), (1.0, 5.0)])
def test_candidate_ranking_equals_full_top_n(alpha, beta):
    rng = np.random.default_rng(1)
    user_items = sparse.random(40, 60, density=0.08, random_state=2, format="csr") * 3
    user_items.data = np.ceil(user_items.data)  # integer counts: ties among own items
    propagated = rng.random((40, 60)).astype(np.float32) * (rng.random((40, 60)) < 0.5)  # ties at zero
    popularity = rng.integers(0, 5, size=60).astype(float)
    order = preference_order(popularity)
    full, _ = top_n(blend(user_items, propagated, popularity, alpha, beta), 10, order)
    fast = CandidateBlend(
        repeat_part(user_items), own_items(user_items), propagated_part(propagated, popularity, alpha), order, 10
    ).top(beta)
    assert (fast == full).all()


def test_own_items_pads_with_minus_one():
    matrix = sparse.csr_matrix(np.array([[0, 2, 0, 1], [0, 0, 0, 0]]))
    assert own_items(matrix).tolist() == [[1, 3], [-1, -1]]
