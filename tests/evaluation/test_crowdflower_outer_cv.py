"""The crowdflower suite's outer cross-validation by query (``--folds``) on a tiny generated judgments file."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from recsys.evaluation import crowdflower
from recsys.evaluation.cli import add_eval_parser, run_eval
from tests.evaluation import fixtures
from tests.evaluation.doubles import HashingTextEncoder


@pytest.fixture
def recorded(monkeypatch):
    """A fake judgments learner that records what it was fitted on and scores by the query's title match."""
    calls = []

    def fake(train, test, *, text_encoder, seed, token_encoder):
        calls.append((set(train["query"]), set(test["query"])))
        match = np.array([q.split()[-1] in t for q, t in zip(test["query"], test["product_title"])], dtype=float)
        return {"ranker": match, "ranker_linear": match + 0.01 * test["id"].to_numpy()}

    monkeypatch.setattr(crowdflower, "fit_and_score_all", fake)
    monkeypatch.setattr(crowdflower, "text_encoder", lambda _settings: HashingTextEncoder())
    return calls


def test_outer_folds_cover_every_query_once_and_depend_on_the_seed():
    queries = pd.Series([f"q{i}" for i in range(10) for _ in range(3)])
    folds = crowdflower.outer_folds(queries, 3, seed=0)
    per_query = pd.Series(folds).groupby(queries).nunique()
    assert (per_query == 1).all()  # every judgment of a query in one fold
    assert sorted(pd.Series(folds).groupby(queries).first().value_counts().tolist()) == [3, 3, 4]
    assert (crowdflower.outer_folds(queries, 3, seed=0) == folds).all()
    assert not (crowdflower.outer_folds(queries, 3, seed=1) == folds).all()
    for bad in (1, 11):
        with pytest.raises(ValueError):
            crowdflower.outer_folds(queries, bad, seed=0)


def test_outer_cv_fits_every_method_on_other_folds_only(tmp_path, settings, recorded):
    data = fixtures.write_crowdflower(tmp_path)
    all_queries = set(pd.read_csv(data / "relevance.csv")["query"])
    report = crowdflower.run(data, settings=settings, folds=3)
    assert len(recorded) == 1 + 3  # the fixed split, then one fit per outer fold
    for fit_queries, test_queries in recorded:
        assert fit_queries and test_queries and not fit_queries & test_queries
    outer_tests = [test for _, test in recorded[1:]]
    assert set().union(*outer_tests) == all_queries and sum(map(len, outer_tests)) == len(all_queries)
    outer = report["outer_cv"]
    assert outer["folds"] == 3 and outer["queries"] == len(all_queries)
    expected = {"random", "bm25_title", "bm25_title_desc", "dense_minilm", "hybrid", "ranker", "ranker_linear"}
    assert set(outer["methods"]) == set(report["methods"]) == expected
    for result in outer["methods"].values():
        assert len(result["ndcg@10_folds"]) == 3
        assert result["ndcg@10_mean"] == pytest.approx(np.mean(result["ndcg@10_folds"]), abs=1e-4)
        assert 0.0 <= result["ndcg@10_all_queries"] <= 1.0
    assert outer["methods"]["dense_minilm"]["minus_dense_minilm"] == 0.0
    assert outer["methods"]["dense_minilm"]["linear_minus_dense_minilm"] == 0.0
    dense_linear = outer["methods"]["dense_minilm"]["ndcg@10_linear_all_queries"]
    for result in outer["methods"].values():
        assert 0.0 <= result["ndcg@10_linear_all_queries"] <= 1.0
        # paired over the same queries, so the mean difference is the difference of the means
        assert result["linear_minus_dense_minilm"] == pytest.approx(result["ndcg@10_linear_all_queries"] - dense_linear)
    assert any(r["ndcg@10_linear_all_queries"] != r["ndcg@10_all_queries"] for r in outer["methods"].values())
    # titles holding the query's last word are the relevant ones in the fixture: the fake learner finds them
    assert outer["methods"]["ranker"]["ndcg@10_mean"] > outer["methods"]["random"]["ndcg@10_mean"]
    text = crowdflower.format_outer_cv(report)
    assert "outer 3-fold" in text and "ranker_linear" in text
    assert "outer_cv" not in crowdflower.run(data, settings=settings)  # off by default


def test_eval_cli_folds_option_prints_the_outer_cv(tmp_path, settings, recorded, capsys):
    data = fixtures.write_crowdflower(tmp_path / "data")
    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["eval", "crowdflower", "--data", str(data), "--folds", "3", "-o", str(tmp_path / "r.json")]
    )
    assert run_eval(args, settings) == 0
    out = capsys.readouterr().out
    assert "outer CV: outer 3-fold cross-validation by query" in out
    assert '"outer_cv"' in (tmp_path / "r.json").read_text()
    bad = parser.parse_args(["eval", "crowdflower", "--data", str(data), "--folds", "1"])
    assert run_eval(bad, settings) == 2  # a clear error, not a traceback


def test_linear_gain_ndcg_by_hand():
    rows = pd.DataFrame({"query": ["q", "q", "q"], "median_relevance": [2, 4, 1]})
    scores = np.array([3.0, 2.0, 1.0])  # ranked as given: grades 2, 4, 1
    exp = crowdflower.ndcg10_per_query(rows, scores, seed=0)["q"]
    lin = crowdflower.ndcg10_per_query(rows, scores, seed=0, gain=crowdflower.linear_gain)["q"]
    d = 1 / np.log2(3)
    assert lin == pytest.approx((1 + 3 * d) / (3 + 1 * d))  # gains 1, 3, 0
    assert exp == pytest.approx((1 + 7 * d) / (7 + 1 * d))  # gains 1, 7, 0
    method = crowdflower.score_method(rows, scores, 0, {})
    assert method["metrics"]["ndcg@10_linear"] == pytest.approx(lin)
