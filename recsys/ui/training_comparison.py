"""The Training tab's before/after: after a run, the fashion suite for the new version and its parent (quick
sample by default, the full suite on request), its progress while it runs, and what the tab then advises.

The advice follows one headline number (``encoder_comparison.HEADLINE``): the tab suggests activating the new
version only when it is at least as good as its parent there, warns when it is worse, and "serve when done" does
not serve a worse version.
"""

from __future__ import annotations

import logging
import time

from recsys.accounts.principal import Principal
from recsys.evaluation import encoder_comparison as ec
from recsys.evaluation.encoder_comparison import Comparison
from recsys.training.encoder_runs import EncoderRun
from recsys.ui.training_panel import TrainingPanel

log = logging.getLogger(__name__)
COMPARED = ("title->image/taillift_joint", "title->item/taillift_fused", "category->image/taillift_joint")
SEGMENTS = ("overall", "head types", "tail types")
HEADLINE_NOTE = (
    f"Headline: **{ec.HEADLINE}**. The tab suggests activating a new version only when it is at least as good as "
    "its parent there (at 3 decimals); when it is worse it says so and *serve when done* keeps the parent serving."
)


def finished(panel: TrainingPanel, actor: Principal, run: EncoderRun, serve: bool) -> None:
    """On the run's thread: before/after numbers first (they do not need the new index), then, if asked and the
    new version is not worse than its parent, serve it (re-encode the catalog, rebuild the index, swap)."""
    compare(panel, actor, run)
    if not (serve and run.status == "done" and run.version):
        return
    if not should_serve(panel.comparison):
        panel.serve_status = (
            f"not served: {run.version} is worse than its parent on {ec.HEADLINE} "
            f"(the parent keeps serving; Activate below still serves it by hand)"
        )
        return
    panel.serve_status = f"re-encoding the catalog for {run.version}…"
    try:
        panel.service.switch_encoder(actor, run.version)
        panel.serve_status = f"now serving {run.version}"
    except Exception as exc:  # the version is saved; the previous one keeps serving
        log.exception("serving %s failed", run.version)
        panel.serve_status = f"serving {run.version} failed: {type(exc).__name__}: {exc}"


def should_serve(comparison: Comparison | None) -> bool:
    """Serve when done unless the comparison found the new version worse (no comparison: the user asked)."""
    return comparison is None or comparison.verdict != "worse"


def compare(panel: TrainingPanel, actor: Principal, run: EncoderRun) -> None:
    """After a finished run: the fashion suite for child and parent, progress in ``panel.comparison_status``."""
    if run.status != "done" or run.version is None:
        return
    if panel.evaluate is None:
        panel.comparison_status = "No fashion demo data here: no before/after evaluation."
        return
    size = panel.evaluation_size
    started = time.monotonic()

    def progress(done: int, total: int, stage: str) -> None:
        count = f" {done:,} of {total:,}" if total else ""
        panel.comparison_status = (
            f"Evaluating ({size.name}: {size.about}): {stage}{count} · {time.monotonic() - started:.0f} s"
        )

    progress(0, 0, f"after ({run.version})")
    try:
        panel.comparison = panel.evaluate(actor, run, size, progress)
    except Exception as exc:  # the run itself succeeded; say why there is no comparison
        log.exception("fashion evaluation of %s failed", run.version)
        panel.comparison_status = f"Evaluation failed: {type(exc).__name__}: {exc}"
        return
    seconds = time.monotonic() - started
    panel.comparison_status = (
        f"Evaluated in {seconds:.0f} s ({size.name}: {size.about}); reports on the Evaluation tab."
        + ("" if run.parent else " The parent had untrained heads: only the new version is shown.")
    )


def saved_line(panel: TrainingPanel, run: EncoderRun) -> str:
    """What the tab says about a saved version: the suggestion to activate it, or the warning that it is worse."""
    parent = run.parent or "untrained heads"
    saved = f"Saved **{run.version}** (parent {parent})"
    if panel.serve_status:
        return saved + "."
    comparison = panel.comparison
    if comparison is None or comparison.child != run.version:
        if panel.evaluate is None:
            return saved + "; no fashion data here for a before/after: activate it below if its validation suits you."
        if panel.comparison_status.startswith("Evaluation failed"):
            return saved + "; the before/after failed (below), so there is no suggestion either way."
        return saved + "; comparing it with its parent before suggesting anything…"
    if comparison.verdict is None:
        return saved + "; nothing to compare it with: activate it below to serve it."
    numbers = f"{ec.HEADLINE} {comparison.after:.3f} vs parent {comparison.before:.3f}"
    if comparison.verdict == "worse":
        return (
            f"⚠️ {saved} is **worse than its parent**: {numbers}. Keep serving {parent}; "
            "activating this version would make search worse on the held-out items."
        )
    return f"{saved}: {numbers} ({comparison.verdict}); activate it below to serve it."


def comparison_text(panel: TrainingPanel, metric: str = "recall@10") -> str:
    lines = [panel.comparison_status] if panel.comparison_status else []
    comparison = panel.comparison
    if comparison is not None:
        lines.append("")
        lines.append("| method | model | " + " | ".join(SEGMENTS) + " |")
        lines.append("|---|---|" + "---|" * len(SEGMENTS))
        for method in COMPARED:
            for label, report in labelled(comparison).items():
                values = segment_values(report, method, metric)
                lines.append(
                    f"| {method} | {label} | " + " | ".join("–" if v is None else f"{v:.3f}" for v in values) + " |"
                )
    return "\n".join(lines)


def labelled(comparison: Comparison) -> dict[str, dict]:
    """ "before (<version>)" first, then "after (<version>)": the reports in reading order."""
    names = {"before": comparison.parent, "after": comparison.child}
    return {
        f"{role} ({names[role]})": comparison.reports[role]
        for role in ("before", "after")
        if role in comparison.reports
    }


def segment_values(report: dict, method: str, metric: str) -> list[float | None]:
    result = report.get("methods", {}).get(method, {})
    segments = result.get("segments", {})
    return [result.get("metrics", {}).get(metric)] + [
        segments.get(s, {}).get("metrics", {}).get(metric) for s in SEGMENTS[1:]
    ]
