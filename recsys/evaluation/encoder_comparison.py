"""Before/after of an encoder training run: the fashion suite for the new version and for its parent on the same
held-out items, one headline number that says whether the new one is better, and both reports stored.

The quick size is what the Training tab runs by default: a hash sample of held-out items and no ridge baseline,
so only those items are encoded (the full suite also encodes every fit item for the ridge map: ~20 minutes on
a CPU the first time). Both sizes score the same TailLift methods on the same kind of split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from recsys.config import Settings
from recsys.encoders.text import TextEncoder
from recsys.evaluation import fashion
from recsys.evaluation import report as reports
from recsys.progress import Progress

HEADLINE_METHOD = "title->image/taillift_joint"
HEADLINE_METRIC = "recall@10"
HEADLINE = "title→image Recall@10 (TailLift joint space, held-out items)"
DECIMALS = 3  # the precision the tab shows: equal when both round to the same value


@dataclass(frozen=True)
class EvaluationSize:
    name: str
    limit: int  # evaluated held-out items (hash sample)
    ridge: bool  # fit the ridge_map baseline (tower features of every fit item)
    about: str  # in words, for the tab


QUICK = EvaluationSize(
    "quick", 1000, False, "a hash sample of 1,000 held-out items, no ridge baseline (under a minute on 2 CPU cores)"
)
FULL = EvaluationSize(
    "full",
    fashion.SAMPLE_LIMIT,
    True,
    f"{fashion.SAMPLE_LIMIT:,} held-out items and the ridge baseline (tower features of every fit item: "
    "~20 min on 2 CPU cores the first time, about a minute once they are cached)",
)


def headline(report: dict) -> float | None:
    return report.get("methods", {}).get(HEADLINE_METHOD, {}).get("metrics", {}).get(HEADLINE_METRIC)


def verdict(after: float | None, before: float | None) -> str | None:
    """ "better", "equal" or "worse" at the shown precision; None when either number is missing."""
    if after is None or before is None:
        return None
    a, b = round(after, DECIMALS), round(before, DECIMALS)
    return "better" if a > b else "equal" if a == b else "worse"


@dataclass
class Comparison:
    child: str
    parent: str | None
    size: EvaluationSize
    reports: dict[str, dict] = field(default_factory=dict)  # "after" / "before" -> fashion report
    stored: dict[str, str] = field(default_factory=dict)  # "after" / "before" -> stored report name

    @property
    def after(self) -> float | None:
        return headline(self.reports["after"]) if "after" in self.reports else None

    @property
    def before(self) -> float | None:
        return headline(self.reports["before"]) if "before" in self.reports else None

    @property
    def verdict(self) -> str | None:
        return verdict(self.after, self.before)


def compare_versions(
    data_dir: Path | str,
    settings: Settings,
    child: str,
    parent: str | None,
    size: EvaluationSize = QUICK,
    progress: Progress | None = None,
    text: TextEncoder | None = None,
) -> Comparison:
    """Evaluate ``child``, then ``parent`` (when there is one), and store both reports (the parent's first, so the
    newest report is the child's); each carries ``model_version`` and a ``comparison`` entry. ``text``: the
    app's MiniLM, shared instead of loading a copy per version."""
    comparison = Comparison(child, parent, size)
    targets = [("after", child)] + ([("before", parent)] if parent else [])
    for n, (role, version) in enumerate(targets, 1):
        stage = f"{role} ({version}), version {n} of {len(targets)}: "
        step = None if progress is None else (lambda done, total, what, s=stage: progress(done, total, s + what))
        comparison.reports[role] = fashion.run(
            data_dir, settings=settings, model=version, limit=size.limit, ridge=size.ridge, progress=step, text=text
        )
    entry = {
        "child": child,
        "parent": parent,
        "size": size.name,
        "headline": {
            "method": HEADLINE_METHOD,
            "metric": HEADLINE_METRIC,
            "after": comparison.after,
            "before": comparison.before,
            "verdict": comparison.verdict,
        },
    }
    for role in ("before", "after"):
        if role not in comparison.reports:
            continue
        report = comparison.reports[role]
        report["model_version"] = child if role == "after" else parent
        report["comparison"] = {**entry, "role": role, "before_report": comparison.stored.get("before")}
        label = f"{role}-{report['model_version']}"
        comparison.stored[role] = reports.store(report, settings, label=label).name
    return comparison
