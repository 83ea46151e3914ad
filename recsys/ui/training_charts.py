"""The Training tab's figures: the loss of a run (readable from its first epoch) and the before/after bars.

Plain ``matplotlib.figure.Figure`` objects (no pyplot state) with a constrained layout, so axis labels are never
cut off whatever the numbers' widths.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from recsys.evaluation import charts
from recsys.evaluation.encoder_comparison import Comparison
from recsys.ui.training_comparison import COMPARED, SEGMENTS, labelled, segment_values


def loss_figure(losses: Sequence[float], title: str = "Training loss") -> Figure:
    """Mean training loss per finished epoch: a line with a marker and its value at each epoch, so one epoch
    reads as one labelled point; before the first epoch ends, a line saying so."""
    fig = Figure(figsize=(6.4, 2.8), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss (InfoNCE)")
    if not losses:
        ax.text(0.5, 0.5, "no finished epoch yet", ha="center", va="center", transform=ax.transAxes, color="0.4")
        ax.set_xticks([])
        ax.set_yticks([])
        return fig
    epochs = list(range(1, len(losses) + 1))
    ax.plot(epochs, losses, marker="o", color="tab:blue")
    for epoch, loss in zip(epochs, losses):
        # every point labelled up to 12 epochs, then only the first and the last (the rest would overlap)
        if len(losses) <= 12 or epoch in (1, len(losses)):
            ax.annotate(
                f"{loss:.3f}", (epoch, loss), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8
            )
    if len(losses) <= 12:
        ax.set_xticks(epochs)  # whole epochs only (a locator puts 0.6, 0.8, … around a lone epoch)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0.5, len(losses) + 0.5)
    low, high = min(losses), max(losses)
    pad = (high - low) * 0.25 or abs(high) * 0.1 or 0.1  # one epoch (or a flat curve): a band around the value
    ax.set_ylim(low - pad, high + pad)
    ax.grid(alpha=0.3)
    return fig


def before_after_figure(comparison: Comparison, metric: str = "recall@10") -> Figure:
    """Overall/head/tail bars per (method, model), drawn by the Evaluation tab's head/tail chart."""
    methods = {}
    for method in COMPARED:
        for label, report in labelled(comparison).items():
            values = segment_values(report, method, metric)
            methods[f"{method.split('/')[0]} {label.split(' ')[0]}"] = {
                "segments": {s: {"metrics": {metric: v}} for s, v in zip(SEGMENTS, values)}
            }
    return charts.head_tail_figure({"suite": "fashion, before vs after", "methods": methods}, metric)
