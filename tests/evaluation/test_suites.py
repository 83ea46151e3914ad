"""Each suite on tiny generated directories: report structure, no leakage into fitting, determinism."""

from __future__ import annotations

import pytest

from recsys.evaluation import crowdflower, instacart, instacart_data, reviews
from recsys.evaluation.suites import SUITES
from tests.evaluation import fixtures

WRITERS = {
    "crowdflower": fixtures.write_crowdflower,
    "instacart": fixtures.write_instacart,
    "reviews": fixtures.write_reviews,
}
BASELINES = {
    "crowdflower": {"random", "bm25_title", "bm25_title_desc", "dense_minilm", "hybrid"},
    "instacart": {"random", "popularity", "cooccurrence", "personal_history"},
    "reviews": {"random", "majority", "tfidf_lr", "minilm_lr", "tfidf+minilm_lr"},
}


def _numbers(report: dict) -> dict:
    """Everything measured, without wall times and dates (which legitimately differ run to run)."""
    return {name: {k: v for k, v in result.items() if k != "seconds"} for name, result in report["methods"].items()}


@pytest.mark.parametrize("suite", sorted(WRITERS))
def test_suite_report_structure(suite, tmp_path, settings):
    WRITERS[suite](tmp_path / "data")
    report = SUITES[suite](tmp_path / "data", None, settings, 0)  # the parent dir is accepted too
    assert report["suite"] == suite
    assert len(report["data"]["fingerprint"]["sha256"]) == 64
    assert "no train dir" in report["split"]
    assert BASELINES[suite] <= set(report["methods"])
    for result in report["methods"].values():
        assert result["metrics"] and result["segments"] and result["n"] > 0
        assert all(v is None or 0.0 <= v <= 1.0 for v in result["metrics"].values())
    assert isinstance(report["missing_methods"], dict)


@pytest.mark.parametrize("suite", sorted(WRITERS))
def test_same_seed_same_numbers(suite, tmp_path, settings):
    data = WRITERS[suite](tmp_path / "data")
    first, second = SUITES[suite](data, None, settings, 3), SUITES[suite](data, None, settings, 3)
    assert _numbers(first) == _numbers(second)
    assert first["data"]["fingerprint"] == second["data"]["fingerprint"]


def test_fingerprint_changes_with_bytes(tmp_path, settings):
    data = fixtures.write_instacart(tmp_path / "a")
    before = instacart.run(data, settings=settings)["data"]["fingerprint"]["sha256"]
    (data / "departments.csv").write_text("1,pantry\n2,dairy products\n")
    assert instacart.run(data, settings=settings)["data"]["fingerprint"]["sha256"] != before


def test_instacart_runs_taillift_hypergraph_with_head_tail(tmp_path, settings):
    report = instacart.run(fixtures.write_instacart(tmp_path), settings=settings)
    assert "taillift_hypergraph" in report["methods"] and not report["missing_methods"]
    personal = report["methods"]["personal_history"]
    assert {"head items", "tail items"} == set(personal["segments"])
    assert {"coverage@20", "gini@20", "recall@20", "tail_recall@20"} <= set(personal["metrics"])
    # a constant top-20 list covers 20 of 39+ catalogue products at most
    assert report["methods"]["popularity"]["metrics"]["coverage@20"] <= 20 / 39


def test_instacart_fit_never_holds_target_orders(tmp_path):
    data_dir = fixtures.write_instacart(tmp_path / "data")
    own = instacart_data.load(data_dir)
    assert own.target_orders and not set(own.fit["order_id"]) & own.target_orders
    # a train dir that contains the evaluated users' target orders: those lines are dropped
    train_dir = fixtures.write_instacart(tmp_path / "train", n_users=8)
    with_train = instacart_data.load(data_dir, train_dir)
    assert with_train.dropped_fit_lines > 0
    assert not set(with_train.fit["order_id"]) & with_train.target_orders


def test_instacart_train_dir_is_used(tmp_path, settings):
    data_dir = fixtures.write_instacart(tmp_path / "data")
    train_dir = fixtures.write_instacart(tmp_path / "train", n_users=8, first_order_id=5000)
    report = instacart.run(data_dir, train_dir, settings)
    assert report["train"]["dir"] == str(train_dir)
    assert "lines of target orders removed" in report["split"]


def test_crowdflower_ranker_never_sees_evaluated_queries(tmp_path, settings, monkeypatch):
    seen = {}

    def fake_ranker(train, test, *, text_encoder, seed, token_encoder):
        seen["train"], seen["test"] = set(train["query"]), set(test["query"])
        return {"ranker": test["median_relevance"].to_numpy() * 0.0 + seed}

    monkeypatch.setattr(crowdflower, "fit_and_score_all", fake_ranker)
    report = crowdflower.run(fixtures.write_crowdflower(tmp_path), settings=settings)
    assert seen["train"] and seen["test"] and not seen["train"] & seen["test"]
    assert "ranker" in report["methods"] and "ranker" not in report["missing_methods"]


def test_crowdflower_train_dir_drops_evaluated_queries(tmp_path, settings, monkeypatch):
    data_dir = fixtures.write_crowdflower(tmp_path / "data", ["red shoe", "led light"])
    train_dir = fixtures.write_crowdflower(tmp_path / "train", ["red shoe", "wool coat", "silk scarf"])
    seen = {}
    monkeypatch.setattr(
        crowdflower,
        "fit_and_score_all",
        lambda train, test, **kw: {
            "ranker": (seen.setdefault("train", set(train["query"])), test["id"].to_numpy() * 1.0)[1]
        },
    )
    report = crowdflower.run(data_dir, train_dir, settings)
    assert seen["train"] == {"wool coat", "silk scarf"}
    assert report["dataset"]["eval_queries"] == 2
    assert "5 rows of evaluated queries removed" in report["split"]


def test_crowdflower_lexical_beats_random_on_matching_titles(tmp_path, settings, monkeypatch):
    monkeypatch.setattr(crowdflower, "fit_and_score_all", lambda train, test, **kw: {})  # the learners are slow
    methods = crowdflower.run(fixtures.write_crowdflower(tmp_path), settings=settings)["methods"]
    # the fixture's relevant titles contain the query: BM25 must rank them first
    assert methods["bm25_title"]["metrics"]["ndcg@10"] > methods["random"]["metrics"]["ndcg@10"]


def test_reviews_split_grouped_by_item(tmp_path, settings, monkeypatch):
    seen = {}
    original = reviews.split

    def spy(data, train):
        fit, test, text = original(data, train)
        seen["fit"], seen["test"] = set(fit[reviews.ITEM]), set(test[reviews.ITEM])
        return fit, test, text

    monkeypatch.setattr(reviews, "split", spy)
    report = reviews.run(fixtures.write_reviews(tmp_path), settings=settings)
    assert seen["fit"] and seen["test"] and not seen["fit"] & seen["test"]
    assert set(report["methods"]["tfidf_lr"]["segments"]) == {"items with 1-2 reviews", "items with 3+ reviews"}
    # the fixture's wording separates the classes: a text model must beat random
    assert report["methods"]["tfidf_lr"]["metrics"]["auc"] > report["methods"]["random"]["metrics"]["auc"]


def test_reviews_train_dir_drops_evaluated_items(tmp_path, settings, monkeypatch):
    data_dir = fixtures.write_reviews(tmp_path / "data", start=100)
    train_dir = fixtures.write_reviews(tmp_path / "train", start=104)  # overlaps some garments of data
    seen = {}
    original = reviews.split

    def spy(data, train):
        fit, test, text = original(data, train)
        seen["fit"], seen["test"] = set(fit[reviews.ITEM]), set(test[reviews.ITEM])
        seen["train"] = set(train[reviews.ITEM])
        return fit, test, text

    monkeypatch.setattr(reviews, "split", spy)
    report = reviews.run(data_dir, train_dir, settings)
    assert seen["train"] & seen["test"], "fixture must overlap for this test to mean anything"
    assert seen["fit"] and not seen["fit"] & seen["test"]
    assert report["dataset"]["eval_items"] == len(seen["test"])


def test_reviews_nothing_to_fit_is_an_error(tmp_path, settings):
    data_dir = fixtures.write_reviews(tmp_path / "data")
    with pytest.raises(ValueError, match="nothing left to fit"):
        reviews.run(data_dir, fixtures.write_reviews(tmp_path / "train"), settings)
