"""Fashion suite on a generated 40-item catalog: end to end, no evaluated id in the fit, determinism, helpers."""

from __future__ import annotations

import argparse
import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys import registry
from recsys.evaluation import fashion, fashion_data, fashion_scoring
from recsys.evaluation.cli import add_eval_parser, run_eval
from recsys.splits import is_holdout
from recsys.training.heads import HeadTrainingConfig
from tests.demo_catalog import STYLES_HEADER
from tests.encoders.models import COLOURS, garment_image
from tests.evaluation.fixtures import _ids

TINY = HeadTrainingConfig(epochs=3, batch_size=16, hidden=0, embed_dim=16)
# skewed on purpose, so both head and tail article types exist
TYPES = ["Tshirts"] * 16 + ["Shirts"] * 10 + ["Jeans"] * 6 + ["Watches"] * 4 + ["Socks"] * 2 + ["Belts"] * 2
TASK_METHODS = {
    "title->image": {"random", "ridge_map", "taillift_joint", "taillift_joint_csls", "taillift_joint_smoothed"},
    "title->item": {"random", "minilm_text", "taillift_fused"},
    "category->image": {
        "random",
        "ridge_map",
        "taillift_joint",
        "taillift_joint_prompts",
        "taillift_joint_csls",
        "taillift_joint_prompts_csls",
        "taillift_joint_smoothed",
        "taillift_joint_prompts_smoothed",
    },
}


def write_fashion(root: Path, ids: list[int]) -> Path:
    """styles.csv + images.zip of small coloured garment JPEGs, in the ../shared/data/fashion layout."""
    folder = root / "fashion"
    folder.mkdir(parents=True, exist_ok=True)
    colours = list(COLOURS.items())
    types = np.random.default_rng(7).permutation(TYPES * (len(ids) // len(TYPES) + 1))[: len(ids)]
    with open(folder / "styles.csv", "w", newline="") as handle, zipfile.ZipFile(folder / "images.zip", "w") as zf:
        writer = csv.writer(handle)
        writer.writerow(STYLES_HEADER)
        for n, (item_id, kind) in enumerate(zip(ids, types)):
            name, rgb = colours[n % len(colours)]
            writer.writerow(
                [
                    item_id,
                    "Men",
                    "Apparel",
                    "Topwear",
                    kind,
                    name.capitalize(),
                    "Fall",
                    "2012.0",
                    "Casual",
                    f"Brand{n % 5} Men {name.capitalize()} {kind}",
                ]
            )
            buffer = io.BytesIO()
            garment_image(rgb).save(buffer, format="JPEG")
            zf.writestr(f"{item_id}.jpg", buffer.getvalue())
    return folder


def _catalog(root: Path, start: int = 100) -> Path:
    train, held = _ids(30, 10, start)
    return write_fashion(root, sorted(train + held))


def _numbers(report: dict) -> dict:
    return {name: {k: v for k, v in result.items() if k != "seconds"} for name, result in report["methods"].items()}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    from recsys.config import Settings

    root = tmp_path_factory.mktemp("fashion")
    settings = Settings.from_env({"data_dir": root / "state", "demo_limit": 0}, environ={})
    _catalog(root / "data")
    return settings, root / "data", fashion.run(root / "data", None, settings, 0, head_config=TINY)


def test_report_structure(first_run):
    settings, _, report = first_run
    assert report["suite"] == "fashion" and len(report["data"]["fingerprint"]["sha256"]) == 64
    assert "no train dir" in report["split"] and "10 of 10 held-out items" in report["split"]
    assert report["dataset"]["fit_items"] == 30 and report["dataset"]["evaluated_items"] == 10
    assert {f"{task}/{m}" for task, ms in TASK_METHODS.items() for m in ms} == set(report["methods"])
    for result in report["methods"].values():
        assert set(result["metrics"]) == {"recall@1", "recall@10", "recall@100", "mrr@10", "ndcg@10", "r_precision"}
        assert all(v is not None and 0.0 <= v <= 1.0 for v in result["metrics"].values())
        assert set(result["segments"]) == {"head types", "tail types"}
        # a 10-item corpus sits entirely inside the top 100 of any ranking
        assert result["metrics"]["recall@100"] == 1.0
    assert report["methods"]["title->image/random"]["n"] == 10
    assert report["methods"]["category->image/random"]["n"] == report["dataset"]["article_types_evaluated"]
    version = report["model"]["version"]
    assert report["model"]["trained_here"] and version in registry.list_versions(settings)
    assert registry.active_version(settings) is None  # evaluation never activates what it trains
    # the whole held-out corpus by default; the headline ratio of every method is tail over head of its metric
    assert report["dataset"]["limit"] == 0
    joint = report["methods"]["category->image/taillift_joint"]["segments"]
    expected = joint["tail types"]["metrics"]["ndcg@10"] / joint["head types"]["metrics"]["ndcg@10"]
    assert report["headline"]["category->image/taillift_joint tail/head ndcg@10"] == pytest.approx(expected)
    json.dumps(report, allow_nan=False)


def test_same_seed_same_numbers_and_model_reevaluation(first_run):
    settings, data, report = first_run
    again = fashion.run(data, None, settings, 0, head_config=TINY)
    assert _numbers(again) == _numbers(report) and again["model"]["version"] != report["model"]["version"]
    # evaluating the saved version as is gives the numbers it was trained to, without training again
    reused = fashion.run(data, None, settings, 0, model=report["model"]["version"])
    assert not reused["model"]["trained_here"] and reused["timings"]["fit_heads"] == 0.0
    assert _numbers(reused) == _numbers(report)


def test_vectors_out_are_the_vectors_the_suite_scored(first_run):
    settings, data, report = first_run
    out: dict = {}
    fashion.run(data, None, settings, 0, model=report["model"]["version"], vectors_out=out)
    v = out["vectors"]
    assert len(out["ids"]) == len(out["titles"]) == len(out["untitled"]) == len(v["fused_item"])
    assert all(title not in text for title, text in zip(out["titles"], out["untitled"]))  # the corpus is untitled
    own = [{n} for n in range(len(out["ids"]))]
    scored = fashion_scoring.ranking_metrics(v["fused_title"] @ v["fused_item"].T, own, 0)
    expected = report["methods"]["title->item/taillift_fused"]["metrics"]["recall@10"]
    assert float(np.mean(scored["recall@10"])) == pytest.approx(expected)


def test_evaluated_ids_are_never_fitted(tmp_path, settings, monkeypatch):
    # the train dir shares 12 ids with the data dir (some held out, some not)
    data = _catalog(tmp_path / "data")
    train_ids = sorted(int(i) for i in pd.read_csv(data / "styles.csv")["id"][:12]) + list(range(5000, 5030))
    train = write_fashion(tmp_path / "train", train_ids)
    seen: dict = {}
    real_train, real_load = fashion.train_heads, fashion_data.load

    def spy_train(pairs, settings, exclude, **kwargs):
        seen["fitted"] = {p.external_id for p in pairs if not is_holdout(p.external_id) and not exclude(p.external_id)}
        return real_train(pairs, settings, exclude=exclude, **kwargs)

    def spy_load(*args, **kwargs):
        split = real_load(*args, **kwargs)
        seen.setdefault("evaluated", []).append(set(split.evaluated["id"]))
        seen.setdefault("ridge", []).append(set(split.fit["id"]))
        return split

    monkeypatch.setattr(fashion, "train_heads", spy_train)
    monkeypatch.setattr(fashion_data, "load", spy_load)
    for train_dir in (None, train):
        report = fashion.run(data, train_dir, settings, 1, head_config=TINY)
        evaluated = seen["evaluated"][-1]
        assert evaluated and seen["fitted"] and not seen["fitted"] & evaluated and not seen["ridge"][-1] & evaluated
    assert report["dataset"]["dropped_train_overlap"] == 12 and report["dataset"]["evaluated_items"] == 40
    assert "12 with an id of the data dir dropped" in report["split"]
    assert report["train"]["dir"] == str(train)


def test_cli_runs_fashion_and_writes_json(tmp_path, settings, capsys):
    _catalog(tmp_path / "data")
    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "out.json"
    assert (
        run_eval(parser.parse_args(["eval", "fashion", "--data", str(tmp_path / "data"), "-o", str(out)]), settings)
        == 0
    )
    printed = capsys.readouterr().out
    assert "title->item/taillift_fused" in printed and "headline: tail types / head types" in printed
    assert json.loads(out.read_text())["suite"] == "fashion"
    # --corpus-size samples the held-out corpus
    args = ["eval", "fashion", "--data", str(tmp_path / "data"), "--corpus-size", "4", "-o", str(out)]
    assert run_eval(parser.parse_args(args), settings) == 0
    sampled = json.loads(out.read_text())["dataset"]
    assert sampled["limit"] == 4 and sampled["evaluated_items"] == 4


def test_tail_head_ratio_uses_each_tasks_metric():
    segment = lambda head, tail: {"head types": {"metrics": head}, "tail types": {"metrics": tail}}
    methods = {
        "category->image/a": {"segments": segment({"ndcg@10": 0.8, "recall@10": 0.1}, {"ndcg@10": 0.4})},
        "title->image/b": {"segments": segment({"recall@10": 0.5}, {"recall@10": 0.5})},
        "title->image/c": {"segments": segment({"recall@10": 0.0}, {"recall@10": 0.2})},  # no head: no ratio
    }
    assert fashion.tail_head_ratios(methods) == {
        "category->image/a tail/head ndcg@10": pytest.approx(0.5),
        "title->image/b tail/head recall@10": pytest.approx(1.0),
    }


def test_ranking_metrics_perfect_and_reversed_scores():
    relevant = [{0}, {1, 2}]
    perfect = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
    best = fashion_scoring.ranking_metrics(perfect, relevant, seed=0)
    assert all(np.all(values == 1.0) for name, values in best.items() if name != "recall@1")
    assert best["recall@1"].tolist() == [1.0, 0.5]
    worst = fashion_scoring.ranking_metrics(-perfect, relevant, seed=0)
    assert worst["mrr@10"].tolist() == [0.25, 1 / 3] and worst["r_precision"].tolist() == [0.0, 0.0]


def test_ties_are_broken_by_the_seed_not_by_corpus_order():
    flat = np.zeros((2, 50))
    orders = [fashion_scoring.rank(flat, seed) for seed in range(3)]
    assert all(np.array_equal(o[0], o[1]) for o in orders)  # one shuffle per run, shared by queries
    assert not np.array_equal(orders[0][0], np.arange(50)) and not np.array_equal(orders[0][0], orders[1][0])
    assert np.array_equal(fashion_scoring.rank(flat, 0), orders[0])


def test_tail_types_take_the_rarest_fifth_of_fit_items():
    types = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 10 + ["d"] * 6 + ["e"] * 4)
    tail = fashion_data.tail_types(types, 0.2)
    assert tail == {"c", "d", "e"}
    assert fashion_data.is_tail("new type", tail, frozenset(types)) and not fashion_data.is_tail(
        "b", tail, frozenset(types)
    )


def test_sample_is_capped_and_independent_of_row_order():
    frame = pd.DataFrame({"id": [str(i) for i in range(500)]})
    picked = fashion_data.sample(frame, 50)
    shuffled = fashion_data.sample(frame.sample(frac=1.0, random_state=3), 50)
    assert len(picked) == 50 and set(picked["id"]) == set(shuffled["id"])
    assert len(fashion_data.sample(frame, 0)) == 500


def test_untitled_item_texts_hold_no_title(tmp_path):
    frame, images = fashion_data.read(write_fashion(tmp_path, [7, 8]))
    row = next(frame.itertuples())
    joint, bert = fashion_data.untitled_texts(row)
    assert row.productDisplayName not in joint and row.productDisplayName not in bert
    assert joint.startswith(row.articleType) and "Apparel > Topwear" in bert and "year: 2012;" in bert
    assert fashion_data.pair_text(row).startswith(row.productDisplayName + ". ") and set(images) == {"7", "8"}
    assert fashion_data.pair_texts(row) == [fashion_data.pair_text(row), row.productDisplayName]
    assert fashion_data.pair_texts(row, ("item",)) == [fashion_data.pair_text(row)]
