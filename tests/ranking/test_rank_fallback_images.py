"""The fallback order uses the image routes when they are present."""

import numpy as np

from recsys.ranking.fallback import fallback_scores
from recsys.ranking.features import FEATURES, CandidateList, RouteScores, build_features


def test_image_only_candidates_are_ordered_by_image_similarity():
    sims = np.array([0.2, 0.9, 0.5, 0.7, 0.1])
    c = CandidateList(
        "",
        ["Red shirt", "Blue dress", "Green bag", "Black watch", "White shoe"],
        [""] * 5,
        RouteScores(cos_image_image=sims),
    )
    order = np.argsort(-fallback_scores(build_features(c), FEATURES.names), kind="stable")
    assert order.tolist() == np.argsort(-sims).tolist()


def test_text_to_image_similarity_breaks_a_lexical_tie():
    # Same words in every title (equal BM25 and text cosine): the photo that matches the words decides.
    text_image = np.array([0.1, 0.3, 0.25])
    c = CandidateList(
        "blue dress",
        ["cotton dress"] * 3,
        [""] * 3,
        RouteScores(bm25_title=np.full(3, 2.0), cos_text_title=np.full(3, 0.6), cos_text_image=text_image),
    )
    assert np.argsort(-fallback_scores(build_features(c), FEATURES.names)).tolist() == [1, 2, 0]


def test_absent_image_routes_leave_the_text_order_alone():
    c = CandidateList(
        "red dress",
        ["blue shoe", "red dress", "red shirt"],
        ["", "", ""],
        RouteScores(bm25_title=np.array([0.0, 4.0, 2.0]), cos_text_title=np.array([0.1, 0.9, 0.5])),
    )
    with_constant_image = CandidateList(
        c.query,
        c.titles,
        c.descriptions,
        RouteScores(
            bm25_title=c.scores.bm25_title, cos_text_title=c.scores.cos_text_title, cos_text_image=np.full(3, 0.4)
        ),
    )
    np.testing.assert_allclose(fallback_scores(build_features(with_constant_image)), fallback_scores(build_features(c)))
