import numpy as np

from recsys.ranking.features.cross import NAMES as CROSS
from recsys.ranking.features.cross import PAIRS, cross_features
from recsys.ranking.features.query_norm import NAMES, SOURCES, _rank_pct, query_norm_features


def test_rank_pct_best_is_zero_ties_share_rank_nan_stays():
    np.testing.assert_allclose(_rank_pct(np.array([3.0, 1.0, 3.0, 0.0, np.nan])), [1 / 6, 2 / 3, 1 / 6, 1.0, np.nan])


def test_query_norm_z_and_gap():
    cols = {s: np.array([1.0, 2.0, 3.0]) for s in SOURCES}
    cols["bm25_desc"] = np.full(3, np.nan)
    X = query_norm_features(cols, 3)
    z = X[:, NAMES.index("bm25_title_qz")]
    np.testing.assert_allclose(z, (np.array([1, 2, 3]) - 2) / np.std([1, 2, 3]), rtol=1e-6)
    np.testing.assert_allclose(X[:, NAMES.index("bm25_title_qgap")], [2, 1, 0])
    np.testing.assert_allclose(X[:, NAMES.index("bm25_title_qrank")], [1, 0.5, 0])
    assert np.isnan(X[:, NAMES.index("bm25_desc_qz")]).all()


def test_constant_scores_get_zero_z():
    cols = {s: np.full(2, 5.0) for s in SOURCES}
    X = query_norm_features(cols, 2)
    np.testing.assert_allclose(X[:, NAMES.index("title_cov_qz")], 0.0)


def test_cross_features_are_products():
    names = {a for pair in PAIRS for a in pair}
    cols = {name: np.array([2.0, 0.5]) for name in names}
    cols["cos_text_title"] = np.array([0.5, np.nan])
    X = cross_features(cols, 2)
    np.testing.assert_allclose(X[:, CROSS.index("title_cov_x_cos_text_title")], [1.0, np.nan])
    np.testing.assert_allclose(X[:, CROSS.index("desc_cov_x_cos_text_desc")], [4.0, 0.25])
