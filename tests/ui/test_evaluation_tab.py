"""The Evaluation tab on a fresh start and after the app's runs: training before/after reports (written by the real
comparison on a generated fashion set), a ranker's cross-validation (a real grid search saved as a version) and
the encoder versions' validation; refreshed each time the tab is opened."""

from __future__ import annotations

import dataclasses

import gradio as gr
import numpy as np
import pytest

from recsys.config import Settings
from recsys.evaluation import encoder_comparison as ec
from recsys.evaluation import fashion, run_history
from recsys.evaluation import report as reports
from recsys.ranking.cv import train_and_save
from recsys.ranking.ranker import CATALOG
from recsys.ui import evaluation as tab
from tests.evaluation.fixtures import _ids
from tests.evaluation.test_fashion_suite import TINY, write_fashion


@pytest.fixture(scope="module")
def fashion_versions(tmp_path_factory):
    """(settings, fashion data dir, child, parent): two versions trained on the generated set's fit items."""
    root = tmp_path_factory.mktemp("eval-tab")
    settings = Settings.from_env({"data_dir": root / "state", "demo_limit": 0}, environ={})
    train, held = _ids(30, 40)
    data = write_fashion(root / "data", sorted(train + held))  # 40 held-out items: recall@10 is not always 1
    parent = fashion.run(data, None, settings, 0, head_config=TINY)["model"]["version"]
    child = fashion.run(data, None, settings, 1, head_config=TINY)["model"]["version"]
    for name in reports.list_reports(settings):  # nothing stored yet: fashion.run alone stores nothing
        raise AssertionError(name)
    return settings, data, child, parent


def _ranker(settings: Settings) -> float:
    rng = np.random.default_rng(0)
    X = rng.random((250, 2)).astype(np.float32)
    y = np.clip(np.round(3 * X[:, 0] + 0.3 * rng.standard_normal(250)), 0, 3).astype(int)
    result, _ = train_and_save(
        X,
        y,
        np.repeat(np.arange(25), 10),
        ("signal", "noise"),
        settings.models_dir,
        purpose=CATALOG,
        training={"labels": "weak (attribute match)", "queries": 25},
        grid={"num_leaves": [3], "min_data_in_leaf": [5]},
        max_rounds=30,
    )
    return result.best.mean


def test_a_fresh_start_says_what_will_appear_and_when(settings):
    assert tab.runs_summary(settings) == tab.NOTHING_YET
    assert "Training" in tab.NOTHING_YET and "Retrain ranker" in tab.NOTHING_YET
    with gr.Blocks(), gr.Tab("Evaluation"):
        parts = tab.build_evaluation_tab(settings)
    assert parts["summary"].value == tab.NOTHING_YET and parts["report"].value is None


def test_after_runs_the_tab_lists_the_comparison_the_ranker_cv_and_the_encoders(fashion_versions):
    settings, data, child, parent = fashion_versions
    result = ec.compare_versions(data, settings, child, parent)
    reports.store({"suite": "fashion", "methods": {}}, settings, label="after-by-hand")  # a CLI report, no entry
    cv_mean = _ranker(settings)
    summary = tab.runs_summary(settings)
    assert round(result.after, 3) != round(result.before, 3)  # so the row below tells the two columns apart
    row = f"| {child} | {parent} | quick | {result.after:.3f} | {result.before:.3f} |"
    verdict = summary.split(row)[1].split("|")[0].strip()
    assert verdict == {"worse": "⚠️ worse"}.get(result.verdict, result.verdict) and ec.HEADLINE in summary
    assert f"ndcg@10 {cv_mean:.3f} ± " in summary and "over 5 folds" in summary and "weak (attribute match)" in summary
    assert f"| {child} |" in summary.split("**Encoder versions**")[1]  # its validation recall, from config.json
    assert [c["child"] for c in run_history.training_comparisons(settings)] == [child]

    names = tab.refresh_choices(settings)
    assert tab.default_pair(settings, names) == (result.stored["before"], result.stored["after"])
    view = tab.view(settings)
    assert (
        view[0] == summary
        and view[5]["value"] == result.stored["before"]
        and view[6]["value"] == result.stored["after"]
    )
    assert view[7]["value"] == "recall@10" and "comparable" in view[8]


def test_the_tab_reads_anew_when_opened(fashion_versions):
    settings = fashion_versions[0]
    with gr.Blocks() as demo, gr.Tab("Evaluation") as evaluation:
        parts = tab.build_evaluation_tab(settings)
    selects = [d for d in demo.config["dependencies"] if [evaluation._id, "select"] in [list(t) for t in d["targets"]]]
    assert len(selects) == 1 and parts["summary"]._id in selects[0]["outputs"]
    assert parts["before"]._id in selects[0]["outputs"]


def test_a_damaged_ranker_meta_is_left_out(settings):
    folder = settings.models_dir / "ranker" / CATALOG / "20250101T000000000000Z-abc"
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text("{not json")
    assert run_history.ranker_results(settings) == [] and tab.runs_summary(settings) == tab.NOTHING_YET


def test_a_ranker_alone_is_listed_and_the_training_part_says_none_yet(settings):
    cv_mean = _ranker(settings)
    summary = tab.runs_summary(settings)
    assert f"ndcg@10 {cv_mean:.3f}" in summary and "**Training before/after:** none yet" in summary


def test_before_a_ranker_the_tab_says_when_one_will_be_trained(settings):
    reports.store({"suite": "replay", "dataset": {"k": 20}, "methods": {}}, settings, label="app")  # measured: a replay
    summary = tab.runs_summary(settings)
    assert "**Ranker cross-validation:** none yet" in summary
    assert f"once the catalog holds {settings.auto_train_min_items:,} items" in summary  # not "at first start"
    manual = tab.runs_summary(dataclasses.replace(settings, auto_train_ranker=False))
    assert "Retrain ranker" in manual and "once the catalog holds" not in manual
