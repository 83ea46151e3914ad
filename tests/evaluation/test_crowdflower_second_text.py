"""The second-text-model experiment on CrowdFlower: its columns, and both rankers fitted in the same outer folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.encoders.multilingual import USE_MULTILINGUAL, MultilingualTextEncoder
from recsys.evaluation import crowdflower, crowdflower_second_text
from tests.evaluation import fixtures
from tests.evaluation.doubles import HashingTextEncoder


@pytest.fixture(scope="module")
def use() -> MultilingualTextEncoder:
    return MultilingualTextEncoder(USE_MULTILINGUAL)


def test_columns_score_the_matching_title_higher(use) -> None:
    frame = pd.DataFrame(
        {
            "query": ["red dress", "red dress", "red dress", "led lamp", "led lamp"],
            "product_title": ["women red dress", "laptop bag", "blue dress", "led desk lamp", "wool scarf"],
            "product_description": ["a red summer dress", "", "a dress", "bright lamp", "warm scarf"],
        }
    )
    cols = crowdflower_second_text.second_text_columns(frame, use)
    assert cols.shape == (5, len(crowdflower_second_text.SECOND_COLUMNS)) and cols.dtype == np.float32
    title, title_z = cols.T
    assert title[0] > title[2] > title[1] and title[3] > title[4]
    assert abs(title_z[:3].mean()) < 1e-5 and abs(title_z[3:].mean()) < 1e-5  # z-scored within each query
    assert np.argmax(title_z[:3]) == 0 and title_z[3] > 0 > title_z[4]


def test_both_rankers_fitted_in_the_same_outer_folds(tmp_path, settings, monkeypatch, use) -> None:
    monkeypatch.setattr(crowdflower_second_text, "text_encoder", lambda _settings: HashingTextEncoder())
    monkeypatch.setattr(crowdflower, "token_encoder", lambda _settings: None)  # late-interaction columns NaN
    data = fixtures.write_crowdflower(tmp_path)
    report = crowdflower_second_text.run(data, use, settings, seed=0, folds=3)
    methods = report["methods"]
    assert set(methods) == {"dense_minilm", "dense_second", "ranker", "ranker_plus_second"}
    assert report["queries"] == 9 and report["second_model"] == USE_MULTILINGUAL
    for m in methods.values():
        assert len(m["ndcg@10_folds"]) == 3 and 0.0 <= m["ndcg@10_all_queries"] <= 1.0
        assert m["ndcg@10_mean"] == pytest.approx(np.mean(m["ndcg@10_folds"]), abs=1e-4)
    assert methods["ranker"]["minus_ranker"] == 0.0 and methods["ranker"]["wins_losses"] == [0, 0]
    # relevance-4 titles hold the whole query: the second model alone ranks them near the top
    assert methods["dense_second"]["ndcg@10_all_queries"] > 0.8
    assert "ranker_plus_second" in crowdflower_second_text.format_report(report)


def test_only_folds_repeats_those_folds_of_a_full_run(tmp_path, settings, monkeypatch, use) -> None:
    monkeypatch.setattr(crowdflower_second_text, "text_encoder", lambda _settings: HashingTextEncoder())
    monkeypatch.setattr(crowdflower, "token_encoder", lambda _settings: None)
    data = fixtures.write_crowdflower(tmp_path)
    full = crowdflower_second_text.run(data, use, settings, seed=0, folds=3)
    part = crowdflower_second_text.run(data, use, settings, seed=0, folds=3, only_folds=[2])
    assert part["folds_run"] == [3] and full["folds_run"] == [1, 2, 3]
    for name, m in part["methods"].items():
        assert m["ndcg@10_folds"] == [full["methods"][name]["ndcg@10_folds"][2]]
    with pytest.raises(ValueError, match="only_folds"):
        crowdflower_second_text.run(data, use, settings, seed=0, folds=3, only_folds=[3])
