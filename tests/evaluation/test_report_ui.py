"""Stored reports, the text table, the CLI entry point and the Evaluation tab's event functions."""

from __future__ import annotations

import argparse
import json

import gradio as gr
import pytest
from matplotlib.figure import Figure

from recsys.config import Settings
from recsys.evaluation import charts
from recsys.evaluation import report as reports
from recsys.evaluation.cli import add_eval_parser, run_eval
from recsys.ui import evaluation as tab
from tests.evaluation import fixtures


def _report(suite="instacart", recall=0.5, sha="a" * 64, seed=0) -> dict:
    return {
        "suite": suite,
        "seed": seed,
        "split": "test split",
        "data": {"dir": "/x", "fingerprint": {"sha256": sha}},
        "methods": {
            "popularity": {
                "metrics": {"recall@20": recall, "coverage@20": 0.01, "gini@20": 0.99},
                "std_err": {"recall@20": 0.02},
                "n": 10,
                "seconds": {"score": 0.1},
                "segments": {
                    "head items": {"n": 9, "metrics": {"recall@20": 0.6}},
                    "tail items": {"n": 4, "metrics": {"recall@20": None}},
                },
            }
        },
        "missing_methods": {"taillift_hypergraph": "not yet"},
    }


def test_store_list_read_roundtrip(settings):
    first = reports.store(_report(recall=0.1), settings, label="v1")
    second = reports.store(_report(recall=0.2), settings, label="v2")
    names = reports.list_reports(settings)
    assert names == [second.name, first.name]  # newest first
    assert reports.read(settings, first.name)["methods"]["popularity"]["metrics"]["recall@20"] == 0.1
    assert reports.list_reports(settings, suite="crowdflower") == []
    with pytest.raises(ValueError):
        reports.read(settings, "../secret.json")
    assert not [p for p in reports.reports_dir(settings).iterdir() if p.name.startswith(".tmp")]


def test_write_json_refuses_nan_and_keeps_old_file(tmp_path):
    path = reports.write_json({"a": 1}, tmp_path / "r.json")
    with pytest.raises(ValueError):
        reports.write_json({"a": float("nan")}, path)
    assert json.loads(path.read_text()) == {"a": 1}


def test_format_table_shows_methods_metrics_segments():
    text = reports.format_table(_report())
    assert "popularity" in text and "recall@20" in text and "0.5000±0.020" in text
    assert "segment: head items" in text and "segment: tail items" in text
    assert "missing: taillift_hypergraph" in text


def test_charts_are_figures_with_bars():
    fig = charts.head_tail_figure(_report())
    assert isinstance(fig, Figure) and len(fig.axes[0].patches) == 2  # one method x two segments
    assert len(charts.coverage_gini_figure(_report()).axes[0].patches) == 2
    compare = charts.compare_figure(_report(recall=0.1), _report(recall=0.3), "recall@20")
    heights = sorted(p.get_height() for p in compare.axes[0].patches)
    assert heights == pytest.approx([0.1, 0.3])
    assert "different data" in charts.comparison_notes(_report(), _report(sha="b" * 64))
    assert "comparable" in charts.comparison_notes(_report(), _report(recall=0.9))


def test_tab_event_functions(settings):
    assert tab.show_report(settings, None)[0] == tab.EMPTY
    a = reports.store(_report(recall=0.1), settings).name
    b = reports.store(_report(recall=0.3), settings).name
    assert tab.refresh_choices(settings) == [b, a]
    text, fig_seg, fig_cov, metrics = tab.show_report(settings, b)
    assert "0.3000" in text and isinstance(fig_seg, Figure) and isinstance(fig_cov, Figure)
    assert metrics[0] == "recall@20"
    notes, fig = tab.compare(settings, a, b, "recall@20")
    assert "comparable" in notes and isinstance(fig, Figure)
    assert tab.compare(settings, a, None, None)[1] is None


def test_tab_builds_inside_blocks(settings):
    reports.store(_report(), settings)
    with gr.Blocks(), gr.Tab("Evaluation"):
        parts = tab.build_evaluation_tab(settings)
    assert parts["report"].value == reports.list_reports(settings)[0]


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_runs_suite_prints_table_and_writes_json(tmp_path, settings, capsys):
    data = fixtures.write_instacart(tmp_path / "data")
    out = tmp_path / "out.json"
    args = _parse(["eval", "instacart", "--data", str(data), "-o", str(out), "--seed", "1", "--model", "v7"])
    assert args.func is run_eval
    assert run_eval(args, settings) == 0
    printed = capsys.readouterr().out
    assert "personal_history" in printed and "report stored" in printed
    saved = json.loads(out.read_text())
    assert saved["seed"] == 1 and saved["model_version"] == "v7"
    assert len(reports.list_reports(settings, "instacart")) == 1


def test_cli_bad_data_dir_returns_2(tmp_path, settings, capsys):
    assert run_eval(_parse(["eval", "reviews", "--data", str(tmp_path)]), settings) == 2
    assert "no womens_clothing_reviews.csv" in capsys.readouterr().err


def test_listing_by_suite_finds_labelled_and_unlabelled_reports(tmp_path):
    settings = Settings.from_env({"data_dir": tmp_path}, environ={})
    plain = reports.store({"suite": "replay", "methods": {}}, settings)
    labelled = reports.store({"suite": "replay", "methods": {}}, settings, label="app")
    reports.store({"suite": "fashion", "methods": {}}, settings)
    assert sorted(reports.list_reports(settings, "replay")) == sorted([plain.name, labelled.name])
