"""The Training tab's event functions on a real service (own 30-item catalog: switching mutates it)."""

from __future__ import annotations

import time

import pytest
from matplotlib.figure import Figure

from recsys import registry
from recsys.accounts.principal import SYSTEM
from recsys.config import Settings
from recsys.service.taillift import TailLiftService
from recsys.training.encoder_runs import EncoderRun
from recsys.training.run_options import EncoderRunOptions
from recsys.ui import training_tab as tab
from tests.small_catalog import fill_small_catalog

TINY = {"epochs": 2, "batch_size": 16, "lr": 5e-3, "log_q": False, "tail_weight": 0.0}


def fake_report(value: float) -> dict:
    """A fashion-suite report shaped like recsys.evaluation.fashion.run's, every metric = ``value``."""
    result = lambda: {
        "metrics": {"recall@10": value},
        "segments": {
            "head types": {"metrics": {"recall@10": value + 0.1}},
            "tail types": {"metrics": {"recall@10": value - 0.1}},
        },
    }
    return {"suite": "fashion", "methods": {m: result() for m in tab.COMPARED}}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    settings = Settings.from_env({"data_dir": tmp_path_factory.mktemp("tab") / "data", "demo_limit": 0}, environ={})
    service = TailLiftService(settings)
    fill_small_catalog(service)
    service.load_models()
    yield service
    service.close()


@pytest.fixture
def panel(service):
    evaluated: list[str] = []
    scores: dict[str, float] = {}  # version -> the value its fake report carries (0.3 by default)

    def evaluate(version: str) -> dict:
        evaluated.append(version)
        return fake_report(scores.get(version, 0.3))

    panel = tab.TrainingPanel(
        service,
        evaluate=evaluate,
        ranker_options={"max_queries": 40, "grid": {"num_leaves": [3], "min_data_in_leaf": [5]}, "max_rounds": 20},
    )
    panel.evaluated, panel.scores = evaluated, scores
    return panel


def _finish(panel: tab.TrainingPanel, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while panel.run.status == "running" or (
        panel.run.status == "done"
        and panel.evaluate
        and len(panel.reports) < (2 if panel.run.parent else 1)
        and "failed" not in panel.comparison_status
    ):
        assert time.monotonic() < deadline, "run did not finish"
        time.sleep(0.2)


def test_run_shows_loss_curve_and_before_after(service, panel):
    assert "Started" in tab.start(panel, SYSTEM, TINY)
    _finish(panel)
    first = panel.run.version
    status, losses, _, _ = tab.poll(panel)
    assert panel.run.status == "done" and first in status
    assert list(losses["epoch"]) == [1, 2] and losses["loss"].notna().all()
    assert panel.evaluated == [first]  # the parent had untrained heads: nothing to compare it with

    panel.scores[first] = 0.5
    message, table = tab.activate(panel, SYSTEM, first)
    assert first in message and table.loc[table["version"] == first, "serving"].item() == "●"

    assert "Started" in tab.start(panel, SYSTEM, {**TINY, "tail_weight": 0.5, "log_q": True})
    _finish(panel)
    second = panel.run.version
    assert panel.run.parent == first and panel.evaluated[1:] == [second, first]
    _, _, text, figure = tab.poll(panel)
    assert f"after ({second})" in text and f"before ({first})" in text and "0.500 | 0.600 | 0.400" in text
    assert isinstance(figure, Figure) and len(figure.axes[0].patches) == 3 * 2 * 3  # segments x models x methods
    config = registry.read_config(registry.version_dir(service.settings, second))
    assert config["run"]["options"]["tail_weight"] == 0.5 and config["run"]["parent"] == first


def test_start_refuses_bad_options_and_a_second_run(service, panel):
    assert "must be" in tab.start(panel, SYSTEM, {**TINY, "epochs": 0.0})
    assert panel.run is None
    panel.run = EncoderRun(service.store, EncoderRunOptions(), status="running")  # as if one were in progress
    assert "already in progress" in tab.start(panel, SYSTEM, TINY)


def test_cancel_stops_the_run_and_saves_nothing(service, panel):
    before = registry.list_versions(service.settings)
    tab.start(panel, SYSTEM, {**TINY, "epochs": 500})
    assert "Cancelling" in tab.cancel(panel, SYSTEM)
    _finish(panel)
    assert panel.run.status == "cancelled" and "cancelled" in tab.run_status(panel)
    assert registry.list_versions(service.settings) == before and panel.evaluated == []
    assert tab.cancel(panel, SYSTEM) == "No run in progress."


def test_activate_rolls_back_and_reports_unknown_versions(service, panel):
    names = list(tab.versions(service)["version"])
    assert len(names) >= 2
    message, table = tab.activate(panel, SYSTEM, names[-1])  # the oldest
    assert "Now serving" in message and table.loc[table["version"] == names[-1], "active"].item() == "●"
    assert "Cannot activate" in tab.activate(panel, SYSTEM, "no-such-version")[0]
    assert tab.activate(panel, SYSTEM, None)[0] == "Pick a version."


def test_retrain_ranker_serves_the_new_ranker(service, panel):
    assert tab.retrain_ranker(panel, SYSTEM).startswith("training")
    assert tab.retrain_ranker(panel, SYSTEM) == "The ranker is already training."
    assert service.ranker_job.wait(300) and service.ranker_job.status == "done"
    status = tab.ranker_status(panel)
    assert status.startswith("serving ") and service.engine.ranking.version != "fallback"
    assert status.split()[1] == service.engine.ranking.version


def test_tab_builds_inside_blocks(service, panel):
    import gradio as gr

    with gr.Blocks() as demo:
        parts = tab.build(demo, service, gr.State(""), panel)
    assert parts["panel"] is panel and len(parts["versions"].value["data"]) >= 2


def test_option_controls_come_from_the_run_options(service, panel):
    """One control per EncoderRunOptions field that names a form group, labelled and bounded by its metadata; the
    start button sends them (then the upload and serve-when-done) to ``start`` by field name."""
    import gradio as gr

    from recsys.options import specs

    with gr.Blocks() as demo:
        token = gr.State("")
        parts = tab.build(demo, service, token, panel)
    controls = parts["options"]
    in_form = [s for s in specs(EncoderRunOptions) if s.option.group is not None]
    assert set(controls) == {s.name for s in in_form} and "seed" not in controls and "judgments_path" not in controls
    for spec in in_form:
        assert controls[spec.name].label == spec.label
        assert controls[spec.name].value == (list(spec.default) if spec.kind is tuple else spec.default)
    assert isinstance(controls["sources"], gr.CheckboxGroup) and isinstance(controls["log_q_by"], gr.Radio)
    assert isinstance(controls["tail_weight"], gr.Slider) and isinstance(controls["log_q"], gr.Checkbox)
    assert controls["unfreeze_image_blocks"].maximum == 16 and controls["epochs"].minimum == 1
    # the element ids the browser test and benchmarks/drive_training_tab.py use
    ids = {name: c.elem_id for name, c in controls.items()}
    assert ids["epochs"] == "train-epochs" and ids["batch_size"] == "train-batch" and ids["tail_weight"] == "train-tail"
    assert parts["serve_when_done"].elem_id == "train-serve" and parts["start"].elem_id == "train-start"
    click = next(d for d in demo.config["dependencies"] if d["targets"][0][0] == parts["start"]._id)
    assert set(click["inputs"]) == {c._id for c in controls.values()} | {  # a set: the event gets a dict
        token._id,
        parts["judgments"]._id,
        parts["serve_when_done"]._id,
    }


def test_judgments_source_needs_a_valid_file_and_keeps_a_copy(service, panel, tmp_path):
    assert "needs a judgments file" in tab.start(panel, SYSTEM, {**TINY, "sources": ["judgments"]})
    bad = tmp_path / "bad.csv"
    bad.write_text("query,item\nred,1\n")
    assert "lacks column" in tab.start(panel, SYSTEM, {**TINY, "sources": ["judgments"]}, judgments_file=str(bad))
    assert panel.run is None or panel.run.options.sources == ("catalog",)  # nothing started by the bad inputs
    with service.sessions() as session:
        from sqlalchemy import select

        from recsys.catalog.models import Item

        ids = session.execute(select(Item.external_id)).scalars().all()
    good = tmp_path / "good.csv"
    good.write_text("query,item_id,relevance\n" + "".join(f"item {n},{i},4\n" for n, i in enumerate(ids)))
    message = tab.start(
        panel,
        SYSTEM,
        {**TINY, "sources": ["catalog", "judgments"], "hard_negatives": 1.0, "uniform_negatives": 4},
        judgments_file=str(good),
        serve_when_done=True,
    )
    assert "Started" in message and "sources=catalog+judgments" in message and "hard_negatives=1" in message
    _finish(panel)
    kept = panel.run.options.judgments_path
    assert panel.run.status == "done" and kept.startswith(str(service.settings.data_dir))
    assert open(kept).read() == good.read_text()
    deadline = time.monotonic() + 120
    while not panel.serve_status.startswith("now serving") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert service.serving_encoder_version() == panel.run.version  # served without pressing Activate
    assert "Recall@10" in tab.run_status(panel) and f"now serving {panel.run.version}" in tab.run_status(panel)


def test_tower_unfreezing_is_refused_without_cuda(panel, monkeypatch):
    monkeypatch.setattr(panel.service, "tower_tuning_available", lambda: False)
    message = tab.start(panel, SYSTEM, {**TINY, "unfreeze_image_blocks": 2})
    assert "needs a CUDA GPU" in message
    assert "for heads-only runs" in tab.start(panel, SYSTEM, {**TINY, "unfreeze_text_layers": 1, "hard_negatives": 2})
