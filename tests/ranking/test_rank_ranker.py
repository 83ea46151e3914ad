import numpy as np
import pytest

from recsys.ranking.explain import explain_sentence, top_reasons
from recsys.ranking.features import FEATURES
from recsys.ranking.ndcg import mean_ndcg
from recsys.ranking.ranker import LambdaRanker, latest_version, new_version_dir

NAMES = ("bm25_title", "rating_bayes", "rating_count_log", "noise")


def synthetic(n_queries: int = 30, per_query: int = 12, seed: int = 0):
    """Relevance driven by bm25_title (strongly) and rating (weakly); 'noise' carries nothing."""
    rng = np.random.default_rng(seed)
    n = n_queries * per_query
    X = rng.random((n, len(NAMES))).astype(np.float32)
    X[:, 1] = 3 + 2 * X[:, 1]
    signal = 3 * X[:, 0] + 0.5 * (X[:, 1] - 3)
    y = np.clip(np.round(signal + 0.2 * rng.standard_normal(n)), 0, 3).astype(int)
    return X, y, np.full(n_queries, per_query)


@pytest.fixture(scope="module")
def trained():
    X, y, g = synthetic()
    return LambdaRanker(NAMES, {"num_leaves": 7, "min_data_in_leaf": 5}, num_boost_round=40).fit(X, y, g), X, y, g


def test_ranker_learns_the_signal(trained):
    ranker, _, _, _ = trained
    X, y, g = synthetic(seed=1)
    assert mean_ndcg(y, ranker.predict(X), g) > mean_ndcg(y, X[:, 3], g) + 0.1


def test_save_load_round_trip_gives_identical_predictions(trained, tmp_path):
    ranker, X, _, _ = trained
    ranker.cv_scores = {"mean": 0.5}
    path = ranker.save(new_version_dir(tmp_path, ranker.fingerprint))
    loaded = LambdaRanker.load(path, expect_features=NAMES)
    np.testing.assert_array_equal(loaded.predict(X), ranker.predict(X))
    assert loaded.cv_scores == {"mean": 0.5} and loaded.fingerprint == ranker.fingerprint
    assert latest_version(tmp_path) == path
    with pytest.raises(FileExistsError):
        ranker.save(path)
    with pytest.raises(ValueError):
        LambdaRanker.load(path, expect_features=NAMES[::-1])


def test_contributions_sum_to_the_prediction(trained):
    ranker, X, _, _ = trained
    e = ranker.explain(X[:20])
    assert e.contributions.shape == (20, len(NAMES))
    np.testing.assert_allclose(e.contributions.sum(axis=1) + e.bias, ranker.predict(X[:20]), rtol=1e-6, atol=1e-9)


def test_wrong_width_is_rejected(trained):
    with pytest.raises(ValueError):
        trained[0].predict(np.zeros((2, 3), dtype=np.float32))


def test_sentence_names_the_strongest_reasons():
    names = FEATURES.names
    contrib = np.zeros(len(names))
    contrib[names.index("bm25_title")] = 0.5
    contrib[names.index("title_cov_qz")] = 0.4
    contrib[names.index("rating_bayes")] = 0.3
    contrib[names.index("cos_text_title")] = -0.2
    contrib[names.index("title_len")] = 2.0  # lengths give no reason
    values = np.zeros(len(names))
    values[names.index("rating_bayes")] = 4.62
    values[names.index("rating_count_log")] = np.log1p(31)
    assert top_reasons(contrib, names) == ["title", "rating"]
    assert (
        explain_sentence(contrib, values, names) == "ranked here because: strong title match, 4.6 stars from 31 reviews"
    )
    assert explain_sentence(-np.abs(contrib), values, names) == "ranked here on overall relevance"


def test_every_feature_but_the_lengths_has_a_reason():
    from recsys.ranking.explain import LENGTHS, reason_of

    unexplained = [n for n in FEATURES.names if n not in LENGTHS and reason_of(n) is None]
    assert unexplained == []
    names = FEATURES.names
    contrib = np.zeros(len(names))
    contrib[names.index("prf_sim_qz")] = 0.6
    contrib[names.index("li_title_mean")] = 0.2
    assert explain_sentence(contrib, np.zeros(len(names)), names) == (
        "ranked here because: like the other results for this query, strong title match"
    )


def test_tail_flag_is_a_reason_only_for_tail_items():
    names = FEATURES.names
    contrib = np.zeros(len(names))
    contrib[names.index("is_tail")] = 0.5
    contrib[names.index("bm25_title")] = 0.1
    values = np.zeros(len(names))
    assert explain_sentence(contrib, values, names) == "ranked here because: strong title match"
    values[names.index("is_tail")] = 1.0
    assert explain_sentence(contrib, values, names) == (
        "ranked here because: a less-seen item worth a look, strong title match"
    )
