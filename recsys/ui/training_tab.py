"""Training tab: retrain the encoder (long-tail options) in the background, watch its loss, compare it with its
parent on the fashion suite, switch or roll back the served version, and retrain the catalog ranker.

State lives in one ``TrainingPanel`` per app (one run at a time); every event is a plain function of the panel
and the inputs, so the tab is tested without a browser.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from matplotlib.figure import Figure

from recsys import registry
from recsys.accounts.principal import SYSTEM, Principal
from recsys.evaluation import charts
from recsys.options import from_values
from recsys.service.errors import NotAllowed
from recsys.service.taillift import TailLiftService
from recsys.training.encoder_runs import EncoderRun
from recsys.training.run_options import EncoderRunOptions
from recsys.ui import option_form
from recsys.ui.account import caller
from recsys.ui.render import esc

log = logging.getLogger(__name__)
EVAL_LIMIT = 1000  # evaluated fashion items per report: about a minute each on 2 CPU cores
COMPARED = ("title->image/taillift_joint", "title->item/taillift_fused", "category->image/taillift_joint")
SEGMENTS = ("overall", "head types", "tail types")
VERSION_COLUMNS = ["serving", "active", "version", "created", "parent", "recall@10", "options"]
Evaluate = Callable[[str], dict]  # encoder version -> fashion-suite report
# Element ids of option controls that differ from "train-<field-name>" (the browser test and benchmark use them).
ELEM_IDS = {"batch_size": "train-batch", "tail_weight": "train-tail"}


class TrainingPanel:
    def __init__(
        self, service: TailLiftService, evaluate: Evaluate | None = None, ranker_options: dict[str, Any] | None = None
    ) -> None:
        self.service = service
        self.evaluate = evaluate if evaluate is not None else default_evaluator(service)
        self.ranker_options = ranker_options or {}
        self.run: EncoderRun | None = None
        self.reports: dict[str, dict] = {}  # "before (<version>)"/"after (<version>)" -> fashion report
        self.comparison_status = ""
        self.serve_status = ""  # "serve when done": re-encoding / now serving / failed
        self.versions_state: tuple = (None, "")  # what the versions table last showed (refreshed on change)
        self._lock = threading.Lock()  # one start at a time, even with two browser tabs


def default_evaluator(service: TailLiftService) -> Evaluate | None:
    """The fashion suite on the demo data (None when it is absent: no before/after then)."""
    if not service.can_evaluate_encoders():
        return None
    # The before/after evaluation follows a run that an admin started (the service checked that start).
    return lambda version: service.evaluate_encoder(SYSTEM, version, limit=EVAL_LIMIT)


# --- events ------------------------------------------------------------------------------------------------


def start(
    panel: TrainingPanel,
    actor: Principal,
    values: dict[str, Any],
    judgments_file: str | None = None,
    serve_when_done: bool = False,
) -> str:
    """Start a run with ``values`` (``EncoderRunOptions`` fields by name, as the form's controls give them; missing
    ones keep their defaults). ``judgments_file`` is the uploaded CSV the judgments source trains on."""
    with panel._lock:
        if panel.run is not None and panel.run.status == "running":
            return "A run is already in progress: cancel it or wait for it."
        try:
            values = dict(values)
            if "judgments" in (values.get("sources") or ()):
                values["judgments_path"] = _keep_judgments(panel, actor, judgments_file)
            options = from_values(EncoderRunOptions, values)
            if options.tunes_towers and not panel.service.tower_tuning_available():
                raise ValueError("unfreezing tower layers needs a CUDA GPU here (use the CLI to force it on a CPU)")
        except NotAllowed as exc:
            return esc(exc)
        except (TypeError, ValueError) as exc:
            return f"Invalid option: {exc}"
        try:
            run = panel.service.start_encoder_run(
                actor, options, on_done=lambda run: _finished(panel, actor, run, serve_when_done)
            )
        except NotAllowed as exc:
            return esc(exc)
        panel.reports, panel.comparison_status, panel.serve_status = {}, "", ""
        panel.run = run
        return f"Started: {_short_options(asdict(options))}"


def _keep_judgments(panel: TrainingPanel, actor: Principal, uploaded: str | None) -> str:
    if not uploaded:
        raise ValueError("the judgments source needs a judgments file (CSV: query,item_id,relevance)")
    return str(panel.service.keep_judgments(actor, Path(uploaded)))


def cancel(panel: TrainingPanel, actor: Principal) -> str:
    try:
        cancelled = panel.service.cancel_encoder_run(actor)
    except NotAllowed as exc:
        return esc(exc)
    return "Cancelling after the current epoch…" if cancelled else "No run in progress."


def poll(panel: TrainingPanel) -> tuple[str, pd.DataFrame, str, Figure | None]:
    """(run status, loss per epoch, before/after text, before/after figure): what the timer refreshes."""
    return (
        run_status(panel),
        loss_frame(panel),
        comparison_text(panel),
        before_after_figure(panel.reports) if panel.reports else None,
    )


def run_status(panel: TrainingPanel) -> str:
    lines = []
    run = panel.run
    if run is None:
        lines.append("No training run yet.")
    else:
        p = run.progress
        line = f"**{run.status}** · {p.stage} {p.fraction:.0%}"
        if p.losses:
            line += f" · loss {p.losses[-1]:.4f}"
        if p.examples_per_s:
            line += f" · {p.examples_per_s:.0f} pairs/s"
        if p.eta_s is not None and run.status == "running":
            line += f" · ETA {p.eta_s:.0f} s"
        lines.append(line)
        if run.version:
            serve_hint = "" if panel.serve_status else "; activate it below to serve it"
            lines.append(f"Saved **{run.version}** (parent {run.parent or 'untrained heads'}){serve_hint}.")
            lines.append(_validation_line(panel.service.settings, run.version))
        if run.error:
            lines.append(run.error)
    if panel.serve_status:
        lines.append(f"Serving: {panel.serve_status}")
    if ranker_status(panel):
        lines.append(f"Ranker: {ranker_status(panel)}")
    return "\n\n".join(lines)


def _validation_line(settings, version: str) -> str:
    metrics = registry.read_config(registry.version_dir(settings, version)).get("metrics", {})
    line = (
        f"Recall@10 {metrics.get('text_to_image_recall@10', float('nan')):.3f} on "
        f"{metrics.get('pairs', 0)} {metrics.get('metrics_on', '')} pairs"
    )
    if metrics.get("best_epoch"):
        line += f"; best epoch {metrics['best_epoch']}" + (" (stopped early)" if metrics.get("stopped_early") else "")
    return line


def loss_frame(panel: TrainingPanel) -> pd.DataFrame:
    losses = panel.run.progress.losses if panel.run is not None else ()
    return pd.DataFrame({"epoch": list(range(1, len(losses) + 1)), "loss": list(losses)})


def versions(service: TailLiftService) -> pd.DataFrame:
    rows = [
        {
            **row,
            "serving": "●" if row["serving"] else "",
            "active": "●" if row["active"] else "",
            "recall@10": None if row["recall@10"] is None else round(row["recall@10"], 4),
            "options": _short_options(row["options"]),
        }
        for row in service.encoder_versions()
    ]
    return pd.DataFrame(rows, columns=VERSION_COLUMNS)


def activate(panel: TrainingPanel, actor: Principal, version: str | None) -> tuple[str, pd.DataFrame]:
    """Serve ``version`` now (an older one = rollback): its index is built first, searches never stop."""
    if not version:
        return "Pick a version.", versions(panel.service)
    try:
        panel.service.switch_encoder(actor, version)
    except NotAllowed as exc:
        return esc(exc), versions(panel.service)
    except (KeyError, ValueError) as exc:
        return f"Cannot activate {version}: {exc}", versions(panel.service)
    return f"Now serving **{version}**.", versions(panel.service)


def retrain_ranker(panel: TrainingPanel, actor: Principal) -> str:
    """Train the catalog ranker in the background (the service's one retrain); served when it is done."""
    job = panel.service.ranker_job
    if job is not None and job.running:
        return "The ranker is already training."
    try:
        panel.service.retrain_ranker(actor, **panel.ranker_options)
    except NotAllowed as exc:
        return esc(exc)
    return ranker_status(panel)


def ranker_status(panel: TrainingPanel) -> str:
    job = panel.service.ranker_job
    if job is None:
        return ""
    return {
        "queued": "training (queued)…",
        "running": f"training… {job.message}",
        "done": job.message,
        "failed": f"failed: {job.message}",
    }[job.status]


# --- before / after -----------------------------------------------------------------------------------------


def _finished(panel: TrainingPanel, actor: Principal, run: EncoderRun, serve: bool) -> None:
    """On the run's thread: before/after numbers first (they do not need the new index), then, if asked,
    serve the new version (re-encode the catalog, rebuild the index, swap atomically)."""
    _compare(panel, run)
    if serve and run.status == "done" and run.version:
        panel.serve_status = f"re-encoding the catalog for {run.version}…"
        try:
            panel.service.switch_encoder(actor, run.version)
            panel.serve_status = f"now serving {run.version}"
        except Exception as exc:  # the version is saved; the previous one keeps serving
            log.exception("serving %s failed", run.version)
            panel.serve_status = f"serving {run.version} failed: {type(exc).__name__}: {exc}"


def _compare(panel: TrainingPanel, run: EncoderRun) -> None:
    """After a finished run: the fashion suite for parent and child (runs on the training thread)."""
    if run.status != "done" or run.version is None:
        return
    if panel.evaluate is None:
        panel.comparison_status = "No fashion demo data: no before/after evaluation."
        return
    targets = [("after", run.version)] + ([("before", run.parent)] if run.parent else [])
    for label, version in targets:
        panel.comparison_status = f"Evaluating {version} on the fashion suite…"
        try:
            panel.reports[f"{label} ({version})"] = panel.evaluate(version)
        except Exception as exc:  # the run itself succeeded; say why there is no comparison
            log.exception("fashion evaluation of %s failed", version)
            panel.comparison_status = f"Evaluation of {version} failed: {type(exc).__name__}: {exc}"
            return
    panel.comparison_status = "" if run.parent else "The parent had untrained heads: only the new version is shown."


def comparison_text(panel: TrainingPanel, metric: str = "recall@10") -> str:
    lines = [panel.comparison_status] if panel.comparison_status else []
    if panel.reports:
        lines.append("| method | model | " + " | ".join(SEGMENTS) + " |")
        lines.append("|---|---|" + "---|" * len(SEGMENTS))
        for method in COMPARED:
            for label, report in sorted(panel.reports.items(), reverse=True):  # "before" rows first
                values = segment_values(report, method, metric)
                lines.append(
                    f"| {method} | {label} | " + " | ".join("–" if v is None else f"{v:.3f}" for v in values) + " |"
                )
    return "\n".join(lines)


def segment_values(report: dict, method: str, metric: str) -> list[float | None]:
    result = report.get("methods", {}).get(method, {})
    segments = result.get("segments", {})
    return [result.get("metrics", {}).get(metric)] + [
        segments.get(s, {}).get("metrics", {}).get(metric) for s in SEGMENTS[1:]
    ]


def before_after_figure(reports: dict[str, dict], metric: str = "recall@10") -> Figure:
    """Overall/head/tail bars per (method, model), drawn by the Evaluation tab's head/tail chart."""
    methods = {}
    for method in COMPARED:
        for label, report in sorted(reports.items(), reverse=True):
            values = segment_values(report, method, metric)
            methods[f"{method.split('/')[0]} {label.split(' ')[0]}"] = {
                "segments": {s: {"metrics": {metric: v}} for s, v in zip(SEGMENTS, values)}
            }
    return charts.head_tail_figure({"suite": "fashion, before vs after", "methods": methods}, metric)


def _short_options(options: dict | None) -> str:
    """The options that differ from the defaults (what a reader needs to tell two versions apart)."""
    if not options:
        return ""
    defaults = asdict(EncoderRunOptions())
    keys = ("epochs", "batch_size", "lr")  # always shown
    shown = [f"{k}={options[k]}" for k in keys if k in options]
    shown += [
        f"{k}={'+'.join(v) if isinstance(v, (list, tuple)) else v}"
        for k, v in options.items()
        if k not in keys
        and k != "judgments_path"
        and k in defaults
        and (list(v) if isinstance(v, (list, tuple)) else v)
        != (list(defaults[k]) if isinstance(defaults[k], tuple) else defaults[k])
    ]
    return ", ".join(shown)


# --- layout -------------------------------------------------------------------------------------------------


def build(
    demo: gr.Blocks, service: TailLiftService, token: gr.State, panel: TrainingPanel | None = None
) -> dict[str, Any]:
    """Add the tab's components to the open Blocks/Tab context; returns them by name."""
    panel = panel or TrainingPanel(service)
    form = lambda group, **kw: option_form.components(
        EncoderRunOptions, group, elem_prefix="train", elem_ids=ELEM_IDS, **kw
    )
    gr.Markdown(
        "Retrain the encoder's projection heads on this catalog (held-out items are never trained on). "
        "A run saves a new version; **Activate** serves it without stopping search, and activating an "
        "older version is the rollback."
    )
    with gr.Row():
        fields = form("main")
    with gr.Accordion("Training data, negatives, temperature, early stopping", open=False):
        with gr.Row():
            fields |= form("data")
            judgments = gr.File(label="Judgments CSV (query,item_id,relevance)", file_types=[".csv"], type="filepath")
        with gr.Row():
            fields |= form("loss")
    cuda = service.tower_tuning_available()
    with gr.Accordion("Unfreeze tower layers (CUDA)", open=False):
        gr.Markdown(
            "Fine-tune the last blocks of the image tower and the last layers of MiniLM together with the "
            "heads, end to end on the images. "
            + (
                "A CUDA GPU is present."
                if cuda
                else "**No CUDA GPU here**: on this CPU a tower run takes hours, so it is offered only where "
                "CUDA is present (the CLI `train encoder --unfreeze-image-blocks N` still runs it)."
            )
        )
        with gr.Row():
            fields |= form("towers", interactive=cuda)
    with gr.Row():
        serve_when_done = gr.Checkbox(
            False,
            label="Serve the new version when it finishes (re-encode, rebuild the index, switch atomically)",
            elem_id="train-serve",
        )
        start_button = gr.Button("Start training", variant="primary", elem_id="train-start")
        cancel_button = gr.Button("Cancel")
        ranker_button = gr.Button("Retrain ranker")
    status = gr.Markdown(run_status(panel), elem_id="train-status")
    loss = gr.LinePlot(loss_frame(panel), x="epoch", y="loss", title="Training loss per epoch", elem_id="train-loss")
    gr.Markdown("### Before / after (fashion suite, held-out items)")
    comparison = gr.Markdown(elem_id="train-comparison")
    comparison_plot = gr.Plot(label="Overall / head / tail")
    gr.Markdown("### Versions")
    table = gr.Dataframe(versions(service), interactive=False, elem_id="train-versions")
    with gr.Row():
        picked = gr.Dropdown(list(versions(service)["version"]), label="Version", scale=4, elem_id="train-version")
        refresh = gr.Button("Refresh", scale=1, elem_id="train-refresh")
        activate_button = gr.Button("Activate (switch / rollback)", scale=1, elem_id="train-activate")
    activate_status = gr.Markdown(elem_id="train-activate-status")
    timer = gr.Timer(2.0)

    def on_refresh():
        frame = versions(service)
        return frame, gr.update(choices=list(frame["version"]))

    def on_tick_versions():
        """Refresh the versions table when a run saved or a switch served a version (not on every tick)."""
        state = (panel.run.version if panel.run else None, panel.serve_status)
        if state == panel.versions_state:
            return gr.update(), gr.update()
        panel.versions_state = state
        return on_refresh()

    names = list(fields)  # the option controls' values arrive first, by position, then the two that are no options

    def on_start(given: dict, profile: gr.OAuthProfile | None = None) -> str:
        values = option_form.values(names, *(given[fields[name]] for name in names))
        actor = caller(service, given[token], profile)
        return start(panel, actor, values, given[judgments], given[serve_when_done])

    def on_cancel(tok: str, profile: gr.OAuthProfile | None = None) -> str:
        return cancel(panel, caller(service, tok, profile))

    def on_retrain(tok: str, profile: gr.OAuthProfile | None = None) -> str:
        return retrain_ranker(panel, caller(service, tok, profile))

    def on_activate(tok: str, version: str | None, profile: gr.OAuthProfile | None = None):
        return activate(panel, caller(service, tok, profile), version)

    private: dict[str, Any] = {"api_visibility": "private"}
    # A set of inputs: the event gets one dict by component, so the profile can follow as a named parameter.
    start_button.click(on_start, {token, *fields.values(), judgments, serve_when_done}, status, **private)
    cancel_button.click(on_cancel, token, status, **private)
    ranker_button.click(on_retrain, token, status, **private)
    timer.tick(lambda: poll(panel), None, [status, loss, comparison, comparison_plot], **private)
    timer.tick(on_tick_versions, None, [table, picked], **private)
    refresh.click(on_refresh, None, [table, picked], **private)
    # A switch re-encodes the catalog: one at a time, in its own queue, so searches are not held up.
    activate_button.click(
        on_activate, [token, picked], [activate_status, table], concurrency_id="switch", concurrency_limit=1, **private
    )
    return {
        "panel": panel,
        "options": fields,
        "judgments": judgments,
        "serve_when_done": serve_when_done,
        "start": start_button,
        "status": status,
        "loss": loss,
        "comparison": comparison,
        "versions": table,
        "version": picked,
        "timer": timer,
    }
