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


def loss_figure(
    losses: Sequence[float],
    step_losses: Sequence[float] = (),
    steps_per_epoch: int = 0,
    title: str = "Training loss",
) -> Figure:
    """Each batch's loss as a thin line over the epochs (so the first epoch already shows a curve), and the mean
    loss per finished epoch as labelled points at each epoch's end; before any batch, a line saying so."""
    fig = Figure(figsize=(6.4, 2.8), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (InfoNCE)")
    if not losses and not step_losses:
        ax.text(0.5, 0.5, "no finished batch yet", ha="center", va="center", transform=ax.transAxes, color="0.4")
        ax.set_xticks([])
        ax.set_yticks([])
        return fig
    epochs = list(range(1, len(losses) + 1))
    if losses:
        ax.plot(epochs, losses, marker="o", color="tab:blue", label="epoch mean")
    for epoch, loss in zip(epochs, losses):
        # every point labelled up to 12 epochs, then only the first and the last (the rest would overlap)
        if len(losses) <= 12 or epoch in (1, len(losses)):
            ax.annotate(
                f"{loss:.3f}", (epoch, loss), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8
            )
    values = list(losses)
    span = float(len(losses))
    if step_losses and steps_per_epoch > 0:
        at = [step / steps_per_epoch for step in range(1, len(step_losses) + 1)]
        ax.plot(at, step_losses, color="tab:blue", alpha=0.35, linewidth=1, label="batch")
        values += list(step_losses)
        span = max(span, at[-1])
        ax.legend(fontsize=8, loc="upper right")
    whole = max(1, int(-(-span // 1)))
    if whole <= 12:
        ax.set_xticks(range(0, whole + 1) if step_losses else epochs)  # whole epochs only
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0 if step_losses else 0.5, whole + 0.5 if not step_losses else max(span, 1.0) * 1.02)
    low, high = min(values), max(values)
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
