"""Evaluation tab: stored reports as a table and charts, and a before/after comparison of two reports.

Reports are produced by ``recsys eval`` (long runs stay out of the web process); this tab only reads them.
Each event is a plain function of (settings, inputs) so it can be tested without a browser.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from matplotlib.figure import Figure

from recsys.config import Settings
from recsys.evaluation import charts
from recsys.evaluation import report as reports

EMPTY = "No stored reports yet: run `python -m recsys eval SUITE --data DIR` to create one."


def refresh_choices(settings: Settings) -> list[str]:
    return reports.list_reports(settings)


def show_report(settings: Settings, name: str | None) -> tuple[str, Figure | None, Figure | None, list[str]]:
    """(table text, head/tail figure, coverage/Gini figure, metric names) of one stored report."""
    if not name:
        return EMPTY, None, None, []
    report = reports.read(settings, name)
    return (
        reports.format_table(report),
        charts.head_tail_figure(report),
        charts.coverage_gini_figure(report),
        reports.metric_names(report),
    )


def compare(settings: Settings, before: str | None, after: str | None, metric: str | None) -> tuple[str, Figure | None]:
    """(caveats, figure) comparing one metric of every method in two stored reports."""
    if not before or not after:
        return "Pick two reports to compare.", None
    a, b = reports.read(settings, before), reports.read(settings, after)
    metric = metric or next(iter(reports.metric_names(a)), None)
    if metric is None:
        return "The first report has no metrics.", None
    labels = (a.get("model_version") or before, b.get("model_version") or after)
    return charts.comparison_notes(a, b), charts.compare_figure(a, b, metric, labels)


def build_evaluation_tab(settings: Settings) -> dict[str, Any]:
    """Add the tab's components to the open Blocks/Tab context; returns them by name (for tests/wiring)."""
    names = refresh_choices(settings)
    first = names[0] if names else None
    text, fig_segments, fig_coverage, metrics = show_report(settings, first)
    gr.Markdown("Stored evaluation reports. Numbers are means over held-out queries/users (± standard error).")
    with gr.Row():
        picked = gr.Dropdown(names, value=first, label="Report", scale=4)
        refresh = gr.Button("Refresh list", scale=1)
    table = gr.Code(text, label="Table", language=None, interactive=False)
    with gr.Row():
        head_tail = gr.Plot(fig_segments, label="By segment (head vs tail)")
        coverage = gr.Plot(fig_coverage, label="Coverage and Gini")
    gr.Markdown("### Before / after")
    with gr.Row():
        before = gr.Dropdown(names, value=names[1] if len(names) > 1 else first, label="Before")
        after = gr.Dropdown(names, value=first, label="After")
        metric = gr.Dropdown(metrics, value=metrics[0] if metrics else None, label="Metric")
    notes = gr.Markdown()
    comparison = gr.Plot(label="Comparison")

    def on_pick(name: str | None):
        text, fig_segments, fig_coverage, metrics = show_report(settings, name)
        return text, fig_segments, fig_coverage, gr.update(choices=metrics, value=metrics[0] if metrics else None)

    def on_refresh():
        choices = refresh_choices(settings)
        return (
            gr.update(choices=choices, value=choices[0] if choices else None),
            gr.update(choices=choices),
            gr.update(choices=choices),
        )

    picked.change(on_pick, picked, [table, head_tail, coverage, metric], api_visibility="private")
    refresh.click(on_refresh, None, [picked, before, after], api_visibility="private")
    for trigger in (before, after, metric):
        trigger.change(
            lambda b, a, m: compare(settings, b, a, m),
            [before, after, metric],
            [notes, comparison],
            api_visibility="private",
        )
    return {
        "report": picked,
        "table": table,
        "head_tail": head_tail,
        "coverage": coverage,
        "before": before,
        "after": after,
        "metric": metric,
        "notes": notes,
        "comparison": comparison,
    }
