import numpy as np

from recsys.ranking.features import FEATURES, CandidateList, RouteScores, build_features
from recsys.ranking.features.result_set import first_stage_scores, result_set_features


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_prf_sim_is_the_cosine_with_the_leave_one_out_centroid_of_the_top():
    rng = np.random.default_rng(0)
    V = _unit(rng.normal(size=(7, 4)))
    first = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.0])
    out = result_set_features(V, first, 7, depth=3)
    top = [0, 1, 2]
    for i in range(7):
        members = [j for j in top if j != i]
        centroid = V[members].sum(axis=0)
        expected = V[i] @ centroid / np.linalg.norm(centroid)
        np.testing.assert_allclose(out[i, 0], expected, rtol=1e-5)
        others = [j for j in range(7) if j != i]
        np.testing.assert_allclose(out[i, 1], (V[others] @ V[i]).mean(), rtol=1e-5)


def test_the_odd_one_out_scores_lowest_even_when_the_first_stage_put_it_on_top():
    # four phone cases and one phone: the phone matched the query words best, yet disagrees with the rest
    case = np.array([1.0, 0.1, 0.0])
    V = _unit([[0.0, 0.2, 1.0], case, case + [0, 0.1, 0], case + [0, 0, 0.1], case + [0.1, 0, 0]])
    out = result_set_features(V, np.array([0.95, 0.9, 0.8, 0.7, 0.6]), 5, depth=3)
    assert out[:, 0].argmin() == 0 and out[:, 1].argmin() == 0


def test_missing_inputs_give_nan_never_an_error():
    V = _unit(np.eye(3))
    assert np.isnan(result_set_features(None, np.ones(3), 3)).all()
    assert np.isnan(result_set_features(V[:2], np.ones(2), 2)).all()  # two candidates: no "others" to agree with
    no_first = result_set_features(V, None, 3)
    assert np.isnan(no_first[:, 0]).all() and np.isfinite(no_first[:, 1]).all()


def test_nan_first_stage_scores_rank_last():
    rng = np.random.default_rng(2)
    V = _unit(rng.normal(size=(5, 4)))
    with_nan = result_set_features(V, np.array([np.nan, 1.0, 0.5, 0.2, 0.1]), 5, depth=2)
    lowest = result_set_features(V, np.array([-9.0, 1.0, 0.5, 0.2, 0.1]), 5, depth=2)
    np.testing.assert_allclose(with_nan, lowest)  # the NaN row is outside the top 2, like the lowest score
    first = result_set_features(V, np.array([9.0, 1.0, 0.5, 0.2, 0.1]), 5, depth=2)
    assert not np.allclose(with_nan[:, 0], first[:, 0])


def test_zero_vectors_mean_no_vector_not_disagreement():
    rng = np.random.default_rng(3)
    V = _unit(rng.normal(size=(5, 4)))
    with_zero = np.vstack([np.zeros(4), V])
    first = np.array([9.0, 1.0, 0.8, 0.6, 0.4, 0.2])  # the empty row would lead the first stage
    out = result_set_features(with_zero, first, 6, depth=3)
    assert np.isnan(out[0]).all()
    np.testing.assert_allclose(out[1:], result_set_features(V, first[1:], 5, depth=3), rtol=1e-5)
    assert np.isnan(result_set_features(np.vstack([np.zeros((2, 4)), V[:2]]), first[:4], 4)).all()


def test_a_duplicate_listing_still_votes_for_its_twin():
    # documented limit: leave-one-out removes the item itself, not copies of it
    rng = np.random.default_rng(4)
    V = _unit(rng.normal(size=(6, 4)))
    V[1] = V[0]
    out = result_set_features(V, np.array([0.9, 0.8, 0.1, 0.2, 0.3, 0.4]), 6, depth=2)
    np.testing.assert_allclose(out[0, 0], 1.0, rtol=1e-6)  # its only other top member is its twin


def test_first_stage_prefers_the_sentence_cosine_and_skips_absent_routes():
    doc, title = np.array([0.3, 0.2]), np.array([0.9, 0.1])
    np.testing.assert_array_equal(first_stage_scores(RouteScores(cos_text_title=title, cos_text_doc=doc)), doc)
    np.testing.assert_array_equal(
        first_stage_scores(RouteScores(cos_text_title=title, cos_text_doc=np.array([np.nan, np.nan]))), title
    )
    assert first_stage_scores(RouteScores()) is None


def test_build_features_fills_the_family_and_its_per_query_normalisation():
    rng = np.random.default_rng(1)
    V = _unit(rng.normal(size=(12, 8)))
    cands = CandidateList(
        "q", [f"t{i}" for i in range(12)], [""] * 12, RouteScores(cos_text_title=rng.random(12)), item_vectors=V
    )
    X = build_features(cands)
    direct = result_set_features(V, cands.scores.cos_text_title, 12)
    np.testing.assert_allclose(X[:, FEATURES.family_slice("result_set")], direct, rtol=1e-6)
    prf = X[:, FEATURES.index("prf_sim")]
    assert X[:, FEATURES.index("prf_sim_qrank")][prf.argmax()] == 0.0
    np.testing.assert_allclose(X[:, FEATURES.index("prf_sim_qz")].mean(), 0.0, atol=1e-5)
