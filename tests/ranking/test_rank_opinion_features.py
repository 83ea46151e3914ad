"""The review-opinion family in the ranker: filled from a real OpinionIndex, NaN without one, shrunk, registered,
the same at serving and training, and old rankers (trained before the family) ignored with a clear log line."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from recsys.opinions.index import OpinionIndex
from recsys.opinions.mentions import ReviewText
from recsys.ranking.features import FEATURES, CandidateList, ItemStats, build_features
from recsys.ranking.features.opinions import ASPECT_KEYS, NAMES, opinion_inputs
from recsys.ranking.ranker import CATALOG, LambdaRanker, new_version_dir
from recsys.search.rank import RankingStep
from recsys.search.types import SearchRequest
from tests.opinions.fixture_reviews import PILLING, PLAIN, REVIEWS, SWEATER

QUALITY = NAMES.index("opinion_quality_praise")
MENTIONS = NAMES.index("opinion_mentions_log")


def opinion_block(X: np.ndarray) -> np.ndarray:
    return X[:, FEATURES.family_slice("opinions")]


def candidates_of(item_ids, index) -> CandidateList:
    shares, mentions = opinion_inputs(index, item_ids)
    titles = [f"item {i}" for i in item_ids]
    return CandidateList(
        "top", titles, [""] * len(titles), items=ItemStats(opinion_shares=shares, opinion_mentions=mentions)
    )


def test_the_family_is_registered_last_with_one_praise_column_per_packaged_aspect():
    assert FEATURES.names[-len(NAMES) :] == NAMES
    assert FEATURES.family_of("opinion_fit_praise") == "opinions"
    assert NAMES == (*(f"opinion_{k}_praise" for k in ASPECT_KEYS), "opinion_mentions_log")


def test_columns_come_from_the_index(opinion_catalog):
    _, opinions, ids = opinion_catalog
    index = opinions.index
    items = [ids[SWEATER], ids[PILLING], ids[PLAIN]]
    block = opinion_block(build_features(candidates_of(items, index)))
    np.testing.assert_array_equal(block[:, : len(ASPECT_KEYS)], index.shrunk_shares(items, ASPECT_KEYS))
    np.testing.assert_allclose(block[:, MENTIONS], np.log1p(index.mention_counts(items)), rtol=1e-6)
    assert block[0, QUALITY] > block[1, QUALITY]  # "excellent quality, well made" vs "pilled after one wash"
    assert np.isfinite(block).all()


def test_no_index_gives_missing_columns():
    block = opinion_block(build_features(candidates_of([1, 2], None)))
    assert block.shape == (2, len(NAMES)) and np.isnan(block).all()


def test_an_item_without_mentions_gets_the_catalog_prior(opinion_catalog):
    _, opinions, _ = opinion_catalog
    index, unknown = opinions.index, 10**9
    block = opinion_block(build_features(candidates_of([unknown], index)))
    priors = index.priors()
    np.testing.assert_allclose(block[0, : len(ASPECT_KEYS)], [priors[k].share_positive for k in ASPECT_KEYS], rtol=1e-6)
    assert block[0, MENTIONS] == 0


def review(review_id: int, item_id: int, rating: int, text: str) -> ReviewText:
    return ReviewText(review_id, item_id, rating, "", text, datetime(2026, 1, 1, tzinfo=UTC))


def test_two_reviews_stay_near_the_prior_many_move_away(opinion_catalog):
    """Shrinkage: an item praised for quality in two reviews stays near the catalog's (mostly complaining) share;
    one praised in twelve moves most of the way to its own all-praise share."""
    _, opinions, _ = opinion_catalog
    index = OpinionIndex(opinions.index.model, opinions.aspects, opinions.vectors)
    index.add_reviews([review(k, 1 + k % 5, r, f"{title}. {text}") for k, (_, r, title, text) in enumerate(REVIEWS)])
    praise = "Excellent quality, very well made and durable."
    index.add_reviews([review(100 + k, 50, 5, praise) for k in range(2)])
    index.add_reviews([review(200 + k, 60, 5, praise) for k in range(12)])
    counts = {i: sum(m.aspect == "quality" and m.polarity == "positive" for m in index.mentions([i])) for i in (50, 60)}
    assert counts == {50: 2, 60: 12}  # every praise sentence was read as quality praise
    prior = index.priors()["quality"]
    two, twelve = opinion_block(build_features(candidates_of([50, 60], index)))[:, QUALITY]
    assert prior.share_positive < two < twelve < 1.0
    assert two - prior.share_positive < 1.0 - two  # two reviews: nearer the catalog than their own 100 %
    assert twelve - prior.share_positive > 1.0 - twelve  # twelve: nearer their own share
    np.testing.assert_allclose(two, (2 + prior.weight * prior.share_positive) / (2 + prior.weight), rtol=1e-6)


def test_search_and_ranker_training_fill_the_same_opinion_columns(small_search_service, opinion_catalog, monkeypatch):
    """The served search and the training snapshot (``engine.snapshot().recall``, what train_catalog_ranker reads)
    build identical opinion columns from the index the engine is handed."""
    _, opinions, _ = opinion_catalog
    engine = small_search_service.engine
    items = engine.holder.get().table.ids
    index = OpinionIndex(opinions.index.model, opinions.aspects, opinions.vectors)
    index.add_reviews([review(k, int(items[k % 6]), r, f"{t}. {x}") for k, (_, r, t, x) in enumerate(REVIEWS)])
    monkeypatch.setattr(engine, "opinions", lambda: index)
    seen: list[CandidateList] = []
    score = engine.ranking.score
    monkeypatch.setattr(engine.ranking, "score", lambda c, *a: seen.append(c) or score(c, *a))
    request = SearchRequest(text="red cotton shirt", k=5, log=False)
    engine.search(request)
    trained_on = engine.snapshot().recall(request).candidates
    served = opinion_block(build_features(seen[0], engine.priors))
    assert np.isfinite(served).any() and np.isnan(served).sum() == 0
    np.testing.assert_array_equal(served, opinion_block(build_features(trained_on, engine.priors)))


def old_ranker(models_dir):
    """A catalog ranker saved before the opinion family: its name list lacks the opinion columns."""
    names = FEATURES.names[: -len(NAMES)]
    rng = np.random.default_rng(0)
    X, y = rng.random((60, len(names))).astype(np.float32), np.tile(np.arange(4), 15)
    ranker = LambdaRanker(names, {"num_leaves": 3, "min_data_in_leaf": 2}, num_boost_round=3, purpose=CATALOG)
    ranker.fit(X, y, np.full(5, 12))
    return ranker.save(new_version_dir(models_dir, ranker.fingerprint, CATALOG))


def test_an_old_feature_list_ranker_is_ignored_with_a_log_line_and_search_still_ranks(tmp_path, caplog):
    path = old_ranker(tmp_path)
    with caplog.at_level(logging.WARNING, logger="recsys.search.rank"):
        step = RankingStep(tmp_path)
    assert step.ranker is None and step.version == "fallback"
    assert f"ranker {path} not used" in caplog.text and "trained on different features; retrain it" in caplog.text
    ranked = step.rank(replace(candidates_of([1, 2, 3], None), titles=["top", "red top", "shoe"]), None, 3)
    assert sorted(ranked.order.tolist()) == [0, 1, 2]


def test_search_is_served_by_the_fallback_while_the_ranker_is_an_old_one(small_search_service, tmp_path, monkeypatch):
    """The fallback version is what makes ``TailLiftService.load_models`` queue a retrain at start-up."""
    engine = small_search_service.engine
    old_ranker(tmp_path)
    monkeypatch.setattr(engine, "ranking", RankingStep(tmp_path))
    response = engine.search(SearchRequest(text="red cotton shirt", k=3, log=False))
    assert response.hits and response.ranker_version == "fallback"


def test_missing_opinion_columns_leave_a_trained_ranker_unchanged():
    """Where no item has an opinion index (CrowdFlower, a catalog without reviews) the family is all NaN and the
    trees are exactly those trained without it (column sampling draws from usable columns only)."""
    rng = np.random.default_rng(0)
    X = rng.random((600, 20)).astype(np.float32)
    y = np.clip(np.round(3 * X[:, 0] + X[:, 3] + rng.normal(0, 0.3, 600)), 0, 3).astype(int)
    params, groups = {"num_leaves": 7, "min_data_in_leaf": 10, "feature_fraction": 0.5}, np.full(50, 12)
    without = LambdaRanker(tuple(f"f{i}" for i in range(20)), params, 50).fit(X, y, groups)
    X_nan = np.concatenate([X, np.full((600, len(NAMES)), np.nan, np.float32)], axis=1)
    with_nan = LambdaRanker((*without.feature_names, *NAMES), params, 50).fit(X_nan, y, groups)
    np.testing.assert_array_equal(with_nan.predict(X_nan), without.predict(X))
