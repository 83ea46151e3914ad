import numpy as np
import pytest

from recsys.ranking.features.inputs import ItemStats, Priors, RouteScores
from recsys.ranking.features.popularity import NAMES as POP
from recsys.ranking.features.popularity import popularity_features, smoothed_ctr
from recsys.ranking.features.price import category_price_stats, price_features
from recsys.ranking.features.priors import beta_prior_from_rates, fit_priors
from recsys.ranking.features.quality import bayesian_rating, quality_features
from recsys.ranking.features.scores import route_score_features
from recsys.ranking.features.session import session_features

PRIORS = Priors(
    rating_mean=4.0,
    rating_weight=5.0,
    ctr_alpha=2.0,
    ctr_beta=18.0,
    impression_edges=(10.0, 100.0),
    tail_impressions=10.0,
)


def test_bayesian_rating_pulls_thin_evidence_to_the_prior():
    # one 5-star review: (5*4 + 5) / (5 + 1) = 25/6; 100 reviews averaging 4.5: (20 + 450) / 105
    got = bayesian_rating(np.array([5.0, 450.0, 0.0]), np.array([1.0, 100.0, 0.0]), 4.0, 5.0)
    np.testing.assert_allclose(got, [25 / 6, 470 / 105, 4.0], rtol=1e-6)


def test_quality_features_columns():
    items = ItemStats(
        rating_sum=np.array([9.0, np.nan]), rating_count=np.array([2.0, np.nan]), sentiment_mean=np.array([0.9, 0.1])
    )
    X = quality_features(items, PRIORS, 2)
    np.testing.assert_allclose(X[0], [(20 + 9) / 7, np.log1p(2), 0.9], rtol=1e-6)
    assert np.isnan(X[1, 0]) and np.isnan(X[1, 1]) and X[1, 2] == pytest.approx(0.1)


def test_smoothed_ctr_with_zero_impressions_equals_the_prior():
    assert smoothed_ctr(np.array([0]), np.array([0]), 2.0, 18.0)[0] == pytest.approx(0.1)
    X = popularity_features(
        ItemStats(impressions=np.array([0.0, 50.0, 500.0]), clicks=np.array([0.0, 8.0, 5.0])), PRIORS, 3
    )
    np.testing.assert_allclose(X[:, POP.index("ctr_smoothed")], [0.1, 10 / 70, 7 / 520], rtol=1e-6)
    np.testing.assert_allclose(X[:, POP.index("popularity_bucket")], [0, 1, 2])
    np.testing.assert_allclose(X[:, POP.index("is_tail")], [1, 0, 0])
    np.testing.assert_allclose(X[:, POP.index("impressions_log")], np.log1p([0, 50, 500]), rtol=1e-6)


def test_price_z_score_within_category():
    prices = np.array([np.e - 1, np.e**3 - 1, 10.0])  # log1p prices 1, 3 in category a
    mean, std = category_price_stats(prices, ["a", "a", "b"])
    np.testing.assert_allclose(mean[:2], 2.0, rtol=1e-6)
    np.testing.assert_allclose(std[:2], 1.0, rtol=1e-6)
    X = price_features(
        ItemStats(price=prices, category_price_mean=mean, category_price_std=std, age_days=np.array([0.0, 9.0, -3.0])),
        3,
    )
    np.testing.assert_allclose(X[:2, 1], [-1.0, 1.0], rtol=1e-5)
    assert np.isnan(X[2, 1])  # a category with one price has no spread
    np.testing.assert_allclose(X[:, 2], np.log1p([0, 9, 0]), rtol=1e-6)


def test_session_similarity_max_and_mean():
    items = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    clicked = np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    np.testing.assert_allclose(session_features(items, clicked, 2), [[1.0, 0.8], [0.8, 0.4]], rtol=1e-6)
    assert np.isnan(session_features(items, np.zeros((0, 2)), 2)).all()


def test_route_scores_align_and_fill_missing_routes():
    X = route_score_features(RouteScores(bm25_title=np.array([1.0, 2.0]), cos_text_image=np.array([0.5, 0.1])), 2)
    np.testing.assert_allclose(X[:, 0], [1, 2])
    np.testing.assert_allclose(X[:, 4], [0.5, 0.1], rtol=1e-6)
    assert np.isnan(X[:, [1, 2, 3, 5, 6]]).all()  # 6: cos_text_doc
    with pytest.raises(ValueError):
        route_score_features(RouteScores(bm25_title=np.array([1.0])), 2)


def test_fit_priors_from_catalog_arrays():
    priors = fit_priors(
        rating_sum=np.array([8.0, 0.0, 12.0]),
        rating_count=np.array([2.0, 0.0, 4.0]),
        impressions=np.arange(100, dtype=float),
        clicks=np.zeros(100),
    )
    assert priors.rating_mean == pytest.approx(20 / 6)
    assert priors.rating_weight == pytest.approx(3.0)  # median count of reviewed items
    assert priors.tail_impressions == pytest.approx(np.quantile(np.arange(100), 0.8))
    rng = np.random.default_rng(0)
    impressions = np.full(400, 1000.0)
    clicks = rng.binomial(1000, rng.beta(2, 38, 400)).astype(float)
    alpha, beta = beta_prior_from_rates(clicks, impressions)
    assert alpha / (alpha + beta) == pytest.approx(0.05, abs=0.005)
