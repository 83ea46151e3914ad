"""Every suite on the real ../shared/data: each baseline must land in a sane band.

Bands are wide on purpose (the data here is not the final test set); they catch broken pipelines (a metric
bug, a leak, a swapped label), not small regressions. MiniLM (review vectors and the opinion model's sentence
vectors) is replaced by a hashed bag-of-words double (see doubles.py): encoding the real texts takes many minutes
on 2 cores, so the MiniLM figures are recorded by ``recsys eval`` runs (docs/evaluation.md), and these tests stay
within a few minutes."""

from __future__ import annotations

import pytest

from recsys.evaluation import crowdflower, instacart, reviews
from tests.evaluation.doubles import HashingTextEncoder

pytestmark = pytest.mark.slow


@pytest.fixture
def cached_settings(settings, monkeypatch):
    for module in (crowdflower, reviews):
        monkeypatch.setattr(module, "text_encoder", lambda _settings: HashingTextEncoder())
    # The opinion model's sentence vectors too: MiniLM over every real review sentence is ~20 min on 2 cores.
    monkeypatch.setattr(reviews, "SentenceVectors", lambda *args, **kwargs: HashingTextEncoder())
    return settings


def _metric(report: dict, method: str, name: str) -> float:
    return report["methods"][method]["metrics"][name]


def test_instacart_baselines_order(real_data, cached_settings, monkeypatch):
    # The tuned TailLift rows (a validation grid) are tested on generated data (tests/recommend); the served row,
    # the app's own path, stays in.
    monkeypatch.setattr(instacart, "taillift_methods", lambda *args: {})
    report = instacart.run(real_data, settings=cached_settings)
    recall = {m: _metric(report, m, "recall@20") for m in report["methods"]}
    assert recall["random"] < 0.01
    assert 0.05 < recall["popularity"] < recall["cooccurrence"] < recall["personal_history"] < 0.7
    assert _metric(report, "personal_history", "tail_recall@20") > _metric(report, "popularity", "tail_recall@20")
    assert _metric(report, "popularity", "gini@20") > _metric(report, "personal_history", "gini@20")
    assert report["dataset"]["users"] == 488
    assert _metric(report, "served", "recall@20") > _metric(report, "popularity", "recall@20")


def test_crowdflower_baselines_in_band(real_data, cached_settings, monkeypatch):
    monkeypatch.setattr(crowdflower, "fit_and_score_all", lambda train, test, **kw: {})  # the ranker has its own tests
    report = crowdflower.run(real_data, settings=cached_settings)
    ndcg = {m: _metric(report, m, "ndcg@10") for m in report["methods"]}
    assert 0.65 <= ndcg["random"] <= 0.80
    assert ndcg["bm25_title"] > ndcg["random"] + 0.03
    assert ndcg["dense_minilm"] > ndcg["random"]  # a hashed bag of words here, not MiniLM
    assert max(ndcg.values()) < 0.97
    assert report["dataset"]["eval_queries"] + report["dataset"]["fit_queries"] == 178


def test_reviews_baselines_in_band(real_data, cached_settings, monkeypatch):
    # The stacked methods (minutes of out-of-fold fits here) have their own test on a fixture
    # (test_reviews_stack.py); this test is about the baselines.
    monkeypatch.setattr(reviews.reviews_opinions, "cross_fit_problem", lambda *a: "skipped in the baseline test")
    report = reviews.run(real_data, settings=cached_settings)
    auc = {m: _metric(report, m, "auc") for m in report["methods"]}
    assert 0.4 < auc["random"] < 0.6
    assert 0.90 < auc["tfidf_lr"] < 0.99
    assert 0.75 < auc["minilm_lr"] < 0.99  # the hashed bag-of-words double, not MiniLM
    assert _metric(report, "majority", "accuracy") > 0.7  # the data is ~82% "recommended"
