"""Matplotlib figures of stored reports (head vs tail, coverage/Gini, before/after), built without pyplot.

Figures are plain ``matplotlib.figure.Figure`` objects (no global pyplot state), so they are safe to build
from UI worker threads and easy to test.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from recsys.evaluation.report import metric_names


def segment_metric(report: dict) -> str | None:
    """The first metric every segment carries: the one the head/tail chart shows by default."""
    for result in report.get("methods", {}).values():
        for seg in result.get("segments", {}).values():
            if seg.get("metrics"):
                return next(iter(seg["metrics"]))
    return None


def _grouped_bars(title: str, groups: list[str], series: dict[str, list[float | None]], ylabel: str) -> Figure:
    fig = Figure(figsize=(8, 4), tight_layout=True)
    ax = fig.add_subplot()
    if not groups or not series:
        ax.text(0.5, 0.5, "nothing to show", ha="center", va="center")
        ax.set_axis_off()
        return fig
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    for i, (label, values) in enumerate(series.items()):
        heights = [np.nan if v is None else v for v in values]
        bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, heights, width, label=label)
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.set_xticks(x, groups, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def head_tail_figure(report: dict, metric: str | None = None) -> Figure:
    """Per method, one bar per segment (head vs tail items, short vs long queries, ...)."""
    metric = metric or segment_metric(report)
    methods = list(report.get("methods", {}))
    segments: list[str] = []
    for result in report.get("methods", {}).values():
        segments += [s for s in result.get("segments", {}) if s not in segments]
    series = {
        seg: [report["methods"][m].get("segments", {}).get(seg, {}).get("metrics", {}).get(metric) for m in methods]
        for seg in segments
    }
    return _grouped_bars(f"{report.get('suite')}: {metric} by segment", methods, series, metric or "")


def coverage_gini_figure(report: dict) -> Figure:
    """Catalogue coverage and Gini of recommendation counts per method (suites that recommend lists)."""
    names = [m for m in metric_names(report) if m.startswith(("coverage", "gini"))]
    methods = list(report.get("methods", {}))
    series = {n: [report["methods"][m]["metrics"].get(n) for m in methods] for n in names}
    return _grouped_bars(f"{report.get('suite')}: coverage and Gini", methods if names else [], series, "value")


def compare_figure(before: dict, after: dict, metric: str, labels: tuple[str, str] = ("before", "after")) -> Figure:
    """Same metric of every method in two reports side by side."""
    methods = list(before.get("methods", {}))
    methods += [m for m in after.get("methods", {}) if m not in methods]
    series = {
        label: [rep.get("methods", {}).get(m, {}).get("metrics", {}).get(metric) for m in methods]
        for label, rep in zip(labels, (before, after))
    }
    return _grouped_bars(f"{metric}: {labels[0]} vs {labels[1]}", methods, series, metric)


def comparison_notes(before: dict, after: dict) -> str:
    """Plain-language caveats: a different suite or different data makes the comparison meaningless."""
    notes = []
    if before.get("suite") != after.get("suite"):
        notes.append(f"different suites ({before.get('suite')} vs {after.get('suite')}): not comparable")
    fp = lambda r: r.get("data", {}).get("fingerprint", {}).get("sha256")
    if fp(before) != fp(after):
        notes.append("different data fingerprints: the numbers come from different data")
    if before.get("seed") != after.get("seed"):
        notes.append(f"different seeds ({before.get('seed')} vs {after.get('seed')})")
    return "; ".join(notes) or "same suite, data and seed: comparable"
