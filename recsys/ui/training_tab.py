"""Training tab: retrain the encoder (long-tail options) in the background, watch its loss, compare it with its
parent on the fashion suite (``training_comparison``), switch or roll back the served version, and retrain the
catalog ranker.

State lives in one ``TrainingPanel`` per app (one run at a time); every event is a plain function of the panel
and the inputs, so the tab is tested without a browser.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from matplotlib.figure import Figure

from recsys import registry
from recsys.accounts.principal import Principal
from recsys.evaluation import encoder_comparison as ec
from recsys.options import from_values
from recsys.search.types import NotReady
from recsys.service.errors import NotAllowed
from recsys.service.taillift import TailLiftService
from recsys.training.run_options import EncoderRunOptions
from recsys.ui import option_form
from recsys.ui import training_comparison as tc
from recsys.ui.account import caller
from recsys.ui.i18n import t
from recsys.ui.render import esc
from recsys.ui.training_charts import before_after_figure, loss_figure
from recsys.ui.training_panel import TrainingPanel

STILL_STARTING = "The app is still starting (the models are loading; see the banner at the top): try again in a moment."
VERSION_COLUMNS = ["serving", "active", "version", "created", "parent", "recall@10", "options"]
# Element ids of option controls that differ from "train-<field-name>" (the browser test and benchmark use them).
ELEM_IDS = {"batch_size": "train-batch", "tail_weight": "train-tail"}


# --- events ------------------------------------------------------------------------------------------------


def start(
    panel: TrainingPanel,
    actor: Principal,
    values: dict[str, Any],
    judgments_file: str | None = None,
    serve_when_done: bool = False,
    full_evaluation: bool = False,
) -> str:
    """Start a run with ``values`` (``EncoderRunOptions`` fields by name, as the form's controls give them; missing
    ones keep their defaults). ``judgments_file`` is the uploaded CSV the judgments source trains on;
    ``full_evaluation`` runs the full fashion suite for the before/after instead of the quick sample."""
    with panel.lock:
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
                actor, options, on_done=lambda run: tc.finished(panel, actor, run, serve_when_done)
            )
        except NotAllowed as exc:
            return esc(exc)
        except NotReady:
            return STILL_STARTING
        panel.comparison, panel.comparison_status, panel.serve_status = None, "", ""
        panel.evaluation_size = ec.FULL if full_evaluation else ec.QUICK
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


def poll(panel: TrainingPanel) -> tuple[str, Figure, str, Figure | None]:
    """(run status, loss figure, before/after text, before/after figure): what the timer shows."""
    comparison = panel.comparison
    return (
        run_status(panel),
        loss_chart(panel),
        tc.comparison_text(panel),
        before_after_figure(comparison) if comparison is not None else None,
    )


def losses(panel: TrainingPanel) -> tuple[float, ...]:
    return panel.run.progress.losses if panel.run is not None else ()


def loss_chart(panel: TrainingPanel) -> Figure:
    """The run's loss: per batch from the first step, and per finished epoch."""
    if panel.run is None:
        return loss_figure(())
    progress = panel.run.progress
    return loss_figure(progress.losses, progress.step_losses, progress.steps_per_epoch)


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
            lines.append(tc.saved_line(panel, run))
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
    except NotReady:
        return STILL_STARTING, versions(panel.service)
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
    except NotReady:
        return STILL_STARTING
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


# --- what the timer refreshes, per browser tab ----------------------------------------------------------------

Shown = tuple  # (loss key, comparison key, versions key, choices key): what this browser tab last drew


def tick(panel: TrainingPanel, shown: Shown | None) -> tuple[str, Any, str, Any, Any, Any, Shown]:
    """(status, loss, before/after text, before/after figure, versions table, version choices, shown): figures and
    the table are redrawn only when what they show changed since this browser tab last drew them; the dropdown's
    choices only when a run saved a new version (so a switch does not reset a version being picked)."""
    run = panel.run
    version = run.version if run else None
    keys = (
        (id(run), len(losses(panel)), len(run.progress.step_losses) if run else 0),
        id(panel.comparison),
        (version, panel.serve_status, registry.active_version(panel.service.settings)),
        version,
    )
    old = shown or (None, None, None, None)
    loss = loss_chart(panel) if keys[0] != old[0] else gr.update()
    figure: Any = gr.update()
    if keys[1] != old[1]:
        figure = before_after_figure(panel.comparison) if panel.comparison is not None else None
    table: Any = gr.update()
    choices: Any = gr.update()
    if keys[2] != old[2] or keys[3] != old[3]:
        frame, new_choices = version_updates(panel.service)
        table, choices = frame, (new_choices if shown is None or keys[3] != old[3] else gr.update())
    return run_status(panel), loss, tc.comparison_text(panel), figure, table, choices, keys


def version_updates(service: TailLiftService) -> tuple[pd.DataFrame, Any]:
    """(versions table, dropdown choices): what a page load, Refresh or a change shows."""
    frame = versions(service)
    return frame, gr.update(choices=list(frame["version"]))


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
        t(
            "Retrain the encoder's projection heads on this catalog (held-out items are never trained on). "
            "A run saves a new version; **Activate** serves it without stopping search, and activating an "
            "older version is the rollback."
        )
    )
    with gr.Row():
        fields = form("main")
    with gr.Accordion(t("Training data, negatives, temperature, early stopping"), open=False):
        with gr.Row():
            fields |= form("data")
            judgments = gr.File(
                label=t("Judgments CSV (query,item_id,relevance)"), file_types=[".csv"], type="filepath"
            )
        with gr.Row():
            fields |= form("loss")
    cuda = service.tower_tuning_available()
    with gr.Accordion(t("Unfreeze tower layers (CUDA)"), open=False):
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
            label=t(
                "Serve the new version when it finishes, unless it is worse than its parent (re-encode, rebuild "
                "the index, switch atomically)"
            ),
            elem_id="train-serve",
        )
        full_evaluation = gr.Checkbox(
            False,
            label=f"Full fashion suite for the before/after: {ec.FULL.about}. Unticked: {ec.QUICK.about}",
            elem_id="train-full-eval",
        )
    with gr.Row():
        start_button = gr.Button(t("Start training"), variant="primary", elem_id="train-start")
        cancel_button = gr.Button(t("Cancel"))
        ranker_button = gr.Button(t("Retrain ranker"))
    status = gr.Markdown(run_status(panel), elem_id="train-status")
    loss = gr.Plot(loss_chart(panel), label=t("Training loss (per batch and per epoch)"), elem_id="train-loss")
    gr.Markdown("### Before / after (fashion suite, held-out items)\n\n" + tc.HEADLINE_NOTE)
    comparison = gr.Markdown(elem_id="train-comparison")
    comparison_plot = gr.Plot(label=t("Overall / head / tail"))
    gr.Markdown(t("### Versions"))
    frame = versions(service)
    table = gr.Dataframe(frame, interactive=False, elem_id="train-versions")
    with gr.Row():
        picked = gr.Dropdown(list(frame["version"]), label=t("Version"), scale=4, elem_id="train-version")
        refresh = gr.Button(t("Refresh"), scale=1, elem_id="train-refresh")
        activate_button = gr.Button(t("Activate (switch / rollback)"), scale=1, elem_id="train-activate")
    activate_status = gr.Markdown(elem_id="train-activate-status")
    shown = gr.State(None)  # per browser tab: what its figures and table last showed
    timer = gr.Timer(2.0)

    names = list(fields)  # the option controls' values arrive first, by position, then the two that are no options

    def on_start(given: dict, profile: gr.OAuthProfile | None = None) -> str:
        values = option_form.values(names, *(given[fields[name]] for name in names))
        actor = caller(service, given[token], profile)
        return start(panel, actor, values, given[judgments], given[serve_when_done], given[full_evaluation])

    def on_cancel(tok: str, profile: gr.OAuthProfile | None = None) -> str:
        return cancel(panel, caller(service, tok, profile))

    def on_retrain(tok: str, profile: gr.OAuthProfile | None = None) -> str:
        return retrain_ranker(panel, caller(service, tok, profile))

    def on_activate(tok: str, version: str | None, profile: gr.OAuthProfile | None = None):
        return activate(panel, caller(service, tok, profile), version)

    private: dict[str, Any] = {"api_visibility": "private"}
    # A set of inputs: the event gets one dict by component, so the profile can follow as a named parameter.
    inputs = {token, *fields.values(), judgments, serve_when_done, full_evaluation}
    start_button.click(on_start, inputs, status, **private)
    cancel_button.click(on_cancel, token, status, **private)
    ranker_button.click(on_retrain, token, status, **private)
    ticked = [status, loss, comparison, comparison_plot, table, picked, shown]
    timer.tick(lambda seen: tick(panel, seen), shown, ticked, **private)
    # A newly opened browser tab draws everything now, not what the page held when the app was built.
    demo.load(lambda: tick(panel, None), None, ticked, **private)
    refresh.click(lambda: version_updates(service), None, [table, picked], **private)
    # A switch re-encodes the catalog: one at a time, in its own queue, so searches are not held up.
    activate_button.click(
        on_activate, [token, picked], [activate_status, table], concurrency_id="switch", concurrency_limit=1, **private
    )
    return {
        "panel": panel,
        "options": fields,
        "judgments": judgments,
        "serve_when_done": serve_when_done,
        "full_evaluation": full_evaluation,
        "start": start_button,
        "status": status,
        "loss": loss,
        "comparison": comparison,
        "versions": table,
        "version": picked,
        "shown": shown,
        "timer": timer,
    }
