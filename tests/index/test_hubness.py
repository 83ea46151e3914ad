"""CSLS hubness reduction: a hub that is near every query stops crowding out the right answer."""

import numpy as np
import pytest

from recsys.index.hubness import csls_scores, mean_top_k


def _unit(rows):
    a = np.asarray(rows, dtype=np.float64)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def test_mean_top_k_takes_the_largest_values_and_caps_k():
    sim = np.array([[0.1, 0.9, 0.5], [0.3, 0.2, 0.4]])
    assert mean_top_k(sim, 2) == pytest.approx([0.7, 0.35])
    assert mean_top_k(sim, 10) == pytest.approx(sim.mean(axis=1))


def test_csls_demotes_a_hub_below_the_query_s_own_item():
    # item 0 is a hub (close to every query), item 1 belongs to query 0 but is a bit less similar to it
    queries = _unit([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    corpus = _unit([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    plain = queries @ corpus.T
    assert plain[0].argmax() == 0  # the hub wins without reduction
    scores = csls_scores(queries, corpus, queries, k=2)
    assert scores.argmax(axis=1).tolist() == [1, 2, 3]
    # the query-side term is constant per query: it never reorders a query's ranking
    hub = mean_top_k(corpus @ queries.T, 2)
    assert np.argsort(-scores, axis=1).tolist() == np.argsort(-(2 * plain - hub), axis=1).tolist()


def test_csls_rejects_mismatched_dimensions_and_empty_banks():
    with pytest.raises(ValueError, match="dimensions differ"):
        csls_scores(np.ones((2, 3)), np.ones((4, 3)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="must not be empty"):
        csls_scores(np.ones((2, 3)), np.ones((4, 3)), np.ones((0, 3)))
