"""The Training tab's event functions on a real service (own 30-item catalog: switching mutates it), with the
real before/after: the quick fashion suite on a generated 40-item fashion set as the demo data."""

from __future__ import annotations

import time

import pytest
from matplotlib.figure import Figure

from recsys import registry
from recsys.accounts.principal import SYSTEM
from recsys.config import Settings
from recsys.evaluation import encoder_comparison as ec
from recsys.evaluation import report as reports
from recsys.service.taillift import TailLiftService
from recsys.training.encoder_runs import EncoderRun
from recsys.training.run_options import EncoderRunOptions
from recsys.ui import training_comparison as tc
from recsys.ui import training_tab as tab
from tests.evaluation.test_fashion_suite import _catalog
from tests.small_catalog import fill_small_catalog

TINY = {"epochs": 2, "batch_size": 16, "lr": 5e-3, "log_q": False, "tail_weight": 0.0}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("tab")
    demo = _catalog(root / "demo")  # styles.csv + images.zip: the fashion suite's data
    settings = Settings.from_env({"data_dir": root / "data", "demo_dir": demo, "demo_limit": 0}, environ={})
    service = TailLiftService(settings)
    fill_small_catalog(service)
    service.load_models()
    yield service
    service.close()


@pytest.fixture
def panel(service):
    return tab.TrainingPanel(
        service,
        ranker_options={"max_queries": 40, "grid": {"num_leaves": [3], "min_data_in_leaf": [5]}, "max_rounds": 20},
    )


def _finish(panel: tab.TrainingPanel, timeout: float = 300) -> None:
    """Until the run has ended and, when it saved a version, its before/after is done or has failed."""
    deadline = time.monotonic() + timeout
    compared = lambda run: panel.comparison is not None and panel.comparison.child == run.version
    while panel.run.status == "running" or (
        panel.run.status == "done"
        and panel.evaluate is not None
        and not compared(panel.run)
        and not panel.comparison_status.startswith("Evaluation failed")
    ):
        assert time.monotonic() < deadline, "run did not finish"
        time.sleep(0.2)
    assert panel.run.wait(max(deadline - time.monotonic(), 1))  # its thread has ended (on_done included)


def test_run_shows_loss_curve_and_before_after(service, panel):
    assert panel.evaluate is not None  # the generated fashion set is there: the real suite runs
    assert "Started" in tab.start(panel, SYSTEM, TINY)
    _finish(panel)
    first = panel.run.version
    status, loss, text, _ = tab.poll(panel)
    assert panel.run.status == "done" and first in status
    line = loss.axes[0].lines[0]
    assert list(line.get_xdata()) == [1, 2] and list(line.get_ydata()) == list(panel.run.progress.losses)
    # every batch's loss too, from the first step: a one-epoch run still draws a curve
    progress = panel.run.progress
    assert progress.steps_per_epoch > 0 and len(progress.step_losses) == 2 * progress.steps_per_epoch
    batches = loss.axes[0].lines[1]
    assert list(batches.get_ydata()) == list(progress.step_losses) and batches.get_xdata()[-1] == 2.0
    # the parent had untrained heads: the new version alone, stored for the Evaluation tab
    assert panel.comparison.parent is None and set(panel.comparison.reports) == {"after"}
    assert "nothing to compare it with" in status and "untrained heads" in text
    assert reports.list_reports(service.settings)[0] == panel.comparison.stored["after"]

    message, table = tab.activate(panel, SYSTEM, first)
    assert first in message and table.loc[table["version"] == first, "serving"].item() == "●"

    assert "Started" in tab.start(panel, SYSTEM, {**TINY, "tail_weight": 0.5, "log_q": True})
    _finish(panel)
    second = panel.run.version
    assert panel.run.parent == first and panel.comparison.child == second and panel.comparison.parent == first
    status, _, text, figure = tab.poll(panel)
    assert f"after ({second})" in text and f"before ({first})" in text and "Evaluated in" in text
    after = panel.comparison.reports["after"]["methods"]["title->image/taillift_joint"]["metrics"]["recall@10"]
    assert f"| title->image/taillift_joint | after ({second}) | {after:.3f} |" in text
    assert f"{after:.3f} vs parent {panel.comparison.before:.3f}" in status
    assert ("activate it below" in status) == (panel.comparison.verdict != "worse")
    assert isinstance(figure, Figure) and len(figure.axes[0].patches) == 3 * 2 * 3  # segments x models x methods
    config = registry.read_config(registry.version_dir(service.settings, second))
    assert config["run"]["options"]["tail_weight"] == 0.5 and config["run"]["parent"] == first
    newest, previous = reports.list_reports(service.settings)[:2]
    assert reports.read(service.settings, newest)["comparison"]["before_report"] == previous
    assert panel.comparison.size == ec.QUICK


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
    assert registry.list_versions(service.settings) == before and panel.comparison is None
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
    # a page load redraws the versions table: a browser tab opened after a run is current without Refresh
    loads = [d for d in demo.config["dependencies"] if any(t[1] == "load" for t in d["targets"])]
    assert any(parts["versions"]._id in d["outputs"] and parts["loss"]._id in d["outputs"] for d in loads)
    assert ec.HEADLINE in "".join(str(b.value) for b in demo.blocks.values() if isinstance(b, gr.Markdown))


def test_option_controls_come_from_the_run_options(service, panel):
    """One control per EncoderRunOptions field that names a form group, labelled and bounded by its metadata; the
    start button sends them (then the upload and serve-when-done) to ``start`` by field name."""
    import gradio as gr

    from recsys.options import specs
    from recsys.ui.i18n import english

    with gr.Blocks() as demo:
        token = gr.State("")
        parts = tab.build(demo, service, token, panel)
    controls = parts["options"]
    in_form = [s for s in specs(EncoderRunOptions) if s.option.group is not None]
    assert set(controls) == {s.name for s in in_form} and "seed" not in controls and "judgments_path" not in controls
    for spec in in_form:
        assert english(controls[spec.name].label) == spec.label
        assert controls[spec.name].value == (list(spec.default) if spec.kind is tuple else spec.default)
    assert isinstance(controls["sources"], gr.CheckboxGroup) and isinstance(controls["log_q_by"], gr.Radio)
    assert isinstance(controls["catalog_views"], gr.CheckboxGroup) and controls["catalog_views"].value == [
        "item",
        "title",
    ]
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
        parts["full_evaluation"]._id,
    }


def test_judgments_source_needs_a_valid_file_and_keeps_a_copy(service, panel, tmp_path):
    assert "needs a judgments file" in tab.start(panel, SYSTEM, {**TINY, "sources": ["judgments"]})
    assert "at least one catalog view" in tab.start(panel, SYSTEM, {**TINY, "catalog_views": []})
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


def headline_report(value: float) -> dict:
    """A fashion report carrying ``value`` as the headline metric (the data a comparison holds)."""
    return {"suite": "fashion", "methods": {ec.HEADLINE_METHOD: {"metrics": {ec.HEADLINE_METRIC: value}}}}


def _saved(service, panel, after: float | None, before: float | None) -> str:
    panel.run = EncoderRun(service.store, EncoderRunOptions(), parent="v1", status="done", version="v2")
    if after is not None:
        found = {"after": headline_report(after)} | ({"before": headline_report(before)} if before is not None else {})
        panel.comparison = ec.Comparison("v2", "v1" if before is not None else None, ec.QUICK, found)
    return tc.saved_line(panel, panel.run)


def test_a_worse_child_gets_a_warning_and_no_activate_nudge(service, panel):
    worse = _saved(service, panel, 0.259, 0.679)
    assert "worse than its parent" in worse and "0.259 vs parent 0.679" in worse and "activate it below" not in worse
    assert ec.HEADLINE in worse and "Saved **v2**" in worse
    better = _saved(service, panel, 0.700, 0.679)
    assert "activate it below to serve it" in better and "(better)" in better and "worse" not in better
    equal = _saved(service, panel, 0.6794, 0.6791)
    assert "activate it below to serve it" in equal and "(equal)" in equal


def test_no_nudge_before_the_comparison_is_done_or_when_it_failed(service, panel):
    panel.comparison = None
    waiting = _saved(service, panel, None, None)
    assert "comparing it with its parent" in waiting and "activate" not in waiting
    panel.comparison_status = "Evaluation failed: OSError: disk full"
    failed = _saved(service, panel, None, None)
    assert "failed" in failed and "activate" not in failed


def test_serve_when_done_keeps_the_parent_when_the_child_is_worse(service, panel):
    """The serve decision of ``finished``: its evaluator here returns canned headline numbers (the real suite's
    verdict on tiny data cannot be steered), the serving switch is real."""
    serving = service.serving_encoder_version()
    run = EncoderRun(service.store, EncoderRunOptions(), parent=serving, status="done", version=serving)
    for after, before, served in ((0.2, 0.6, False), (0.6, 0.6, True)):
        panel.serve_status = ""
        found = {"after": headline_report(after), "before": headline_report(before)}
        panel.evaluate = lambda actor, run, size, progress, found=found: ec.Comparison(
            run.version, run.parent, size, found
        )
        tc.finished(panel, SYSTEM, run, serve=True)
        assert panel.serve_status.startswith("now serving" if served else "not served: ")
    assert not tc.should_serve(
        ec.Comparison("b", "a", ec.QUICK, {"after": headline_report(0.1), "before": headline_report(0.2)})
    )
    assert tc.should_serve(None)


def test_evaluation_progress_is_shown_while_it_runs(service, panel):
    """The progress the real comparison reports (phase, n of N) reaches the status text as it happens."""
    seen: list[str] = []
    real = panel.evaluate

    def watched(actor, run, size, progress):
        def relay(done, total, stage):
            progress(done, total, stage)
            seen.append(panel.comparison_status)

        return real(actor, run, size, relay)

    panel.evaluate = watched
    version = service.serving_encoder_version()
    run = EncoderRun(service.store, EncoderRunOptions(), parent=None, status="done", version=version)
    tc.compare(panel, SYSTEM, run)
    assert any(f"after ({version}), version 1 of 1: image features" in line for line in seen)
    assert any("scoring 7 of 7" in line for line in seen) and all(line.startswith("Evaluating (quick") for line in seen)
    assert panel.comparison_status.startswith("Evaluated in")


def test_full_evaluation_is_an_option_of_the_start(service, panel):
    tab.start(panel, SYSTEM, {**TINY, "epochs": 500}, full_evaluation=True)
    assert panel.evaluation_size == ec.FULL and ec.FULL.ridge and ec.FULL.limit > ec.QUICK.limit
    tab.cancel(panel, SYSTEM)
    _finish(panel)


def test_loss_figure_reads_from_one_epoch():
    one = tab.loss_figure([5.1234])
    ax = one.axes[0]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel().startswith("loss")
    assert [t.get_text() for t in ax.texts] == ["5.123"] and ax.get_xlim() == (0.5, 1.5)
    low, high = ax.get_ylim()
    assert low < 5.1234 < high  # a band around the lone point, not a flat zero-height axis
    assert [int(t) for t in ax.get_xticks() if 0.5 <= t <= 1.5] == [1]
    assert tab.loss_figure([]).axes[0].texts[0].get_text() == "no finished batch yet"
    assert len(tab.loss_figure([float(n) for n in range(20, 0, -1)]).axes[0].texts) == 2  # first and last


def test_tick_redraws_only_what_changed_for_that_browser_tab(service, panel):
    first = tab.tick(panel, None)
    status, loss, _, _, table, _, shown = first
    assert isinstance(loss, Figure) and list(table["version"]) == list(tab.versions(service)["version"])
    again = tab.tick(panel, shown)
    assert again[1] == {"__type__": "update"} and again[4] == {"__type__": "update"} and again[-1] == shown
    other_tab = tab.tick(panel, None)  # a browser tab opened later draws everything
    assert isinstance(other_tab[1], Figure) and len(other_tab[4]) == len(table)
    names = list(tab.versions(service)["version"])
    tab.activate(panel, SYSTEM, names[-1])
    after_switch = tab.tick(panel, shown)
    assert not isinstance(after_switch[4], dict)  # a switch (from any browser tab) redraws the table…
    assert after_switch[5] == {"__type__": "update"}  # …but leaves the dropdown alone (a pick may be under way)


def test_training_actions_during_start_up_say_so_and_start_nothing(tmp_path):
    starting = TailLiftService(Settings.from_env({"data_dir": tmp_path / "data", "demo_limit": 0}, environ={}))
    try:  # the page is up while the models load: no engine yet
        early = tab.TrainingPanel(starting)
        assert tab.start(early, SYSTEM, TINY) == tab.STILL_STARTING and early.run is None
        assert tab.retrain_ranker(early, SYSTEM) == tab.STILL_STARTING and starting.ranker_job is None
        assert tab.activate(early, SYSTEM, "any-version")[0] == tab.STILL_STARTING
    finally:
        starting.close()
