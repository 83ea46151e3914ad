"""Query-understanding match features: the asked colour, gender, type and price against item text and price."""

import numpy as np

from recsys.ranking.features import FEATURES, CandidateList, ItemStats, build_features
from recsys.ranking.features.query_match import NAMES, query_match_features

TITLES = ["Women Red Dress", "Men Blue T-Shirt", "Red Shirt"]


def test_chinese_and_english_queries_give_the_same_flags():
    prices = np.array([400, np.nan, 900.0])
    zh = query_match_features("红色连衣裙 500元以下", TITLES, ["", "", ""], prices)
    en = query_match_features("red dress under 500", TITLES, ["", "", ""], prices)
    np.testing.assert_array_equal(zh, en)
    col = {name: zh[:, i] for i, name in enumerate(NAMES)}
    assert col["qm_colour"].tolist() == [1, 0, 1] and col["qm_type"].tolist() == [1, 0, 0]
    assert np.isnan(col["qm_gender"]).all()  # not asked
    assert col["qm_price"][0] == 1 and np.isnan(col["qm_price"][1]) and col["qm_price"][2] == 0
    np.testing.assert_allclose(col["qm_share"], [1.0, 0.0, 1 / 3], rtol=1e-6)


def test_hyphenated_titles_match_joined_types_and_nothing_asked_is_missing():
    got = query_match_features("men tshirt", ["Men Blue T-Shirt", "Women Tshirt"], ["", ""], None)
    assert got[:, NAMES.index("qm_type")].tolist() == [1, 1] and got[:, NAMES.index("qm_gender")].tolist() == [1, 0]
    assert np.isnan(query_match_features("cotton", TITLES, ["", "", ""], None)).all()


def test_registered_in_the_ranker_columns():
    candidates = CandidateList("红色连衣裙", TITLES, ["", "", ""], items=ItemStats(price=np.array([1.0, 2, 3])))
    X = build_features(candidates)
    block = X[:, FEATURES.family_slice("query_match")]
    assert X.shape == (3, len(FEATURES)) and block[:, NAMES.index("qm_colour")].tolist() == [1, 0, 1]
