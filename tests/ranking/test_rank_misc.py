import numpy as np

from recsys.ranking.embedding_cache import CachedTextEncoder
from recsys.ranking.fallback import fallback_scores
from recsys.ranking.features import FEATURES, CandidateList, RouteScores, build_features
from recsys.ranking.sentiment import SentimentModel, item_sentiment


class CountingEncoder:
    model_name = "fake"

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen.extend(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_cache_encodes_each_text_once_and_persists(tmp_path):
    inner = CountingEncoder()
    enc = CachedTextEncoder(inner, tmp_path)
    first = enc.encode(["a", "bb", "a"])
    np.testing.assert_array_equal(first[:, 0], [1, 2, 1])
    assert inner.seen == ["a", "bb"]
    again = CachedTextEncoder(CountingEncoder(), tmp_path)
    np.testing.assert_array_equal(again.encode(["bb"]), [[2, 1]])
    assert again.encoder.seen == []


def test_fallback_prefers_the_better_match():
    c = CandidateList(
        "red dress",
        ["blue shoe", "red dress", "red shirt"],
        ["", "", ""],
        RouteScores(bm25_title=np.array([0.0, 4.0, 2.0]), cos_text_title=np.array([0.1, 0.9, 0.5])),
    )
    X = build_features(c)
    assert np.argsort(-fallback_scores(X, FEATURES.names)).tolist() == [1, 2, 0]


def test_sentiment_model_separates_and_round_trips(tmp_path):
    pos = ["love it, fits perfectly", "great quality, love the colour", "perfect and comfortable"] * 5
    neg = ["poor quality, returned it", "terrible fit, very disappointed", "cheap fabric, returned"] * 5
    model = SentimentModel.fit(pos + neg, [5] * len(pos) + [1] * len(neg))
    p = model.predict(["love the quality", "disappointed, returned it"])
    assert p[0] > 0.5 > p[1]
    model.save(tmp_path)
    np.testing.assert_array_equal(SentimentModel.load(tmp_path).predict(["love it"]), model.predict(["love it"]))
    ids, means = item_sentiment(np.array([7, 3, 7]), np.array([0.2, 0.9, 0.6]))
    np.testing.assert_array_equal(ids, [3, 7])
    np.testing.assert_allclose(means, [0.9, 0.4], rtol=1e-6)
