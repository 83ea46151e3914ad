"""Stored evaluation reports: atomic JSON files under ``settings.data_dir / "reports"``, and a text table.

File names sort by time: ``<UTC timestamp>-<suite>[-<label>].json``; a report is never overwritten.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from recsys.config import Settings

SUFFIX = ".json"


def reports_dir(settings: Settings) -> Path:
    return settings.data_dir / "reports"


def write_json(report: dict, path: Path) -> Path:
    """Write atomically: a reader sees the old file or the complete new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2, sort_keys=False, allow_nan=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:60]


def store(report: dict, settings: Settings, label: str | None = None) -> Path:
    """Save into the reports dir under a new time-stamped name; returns the path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    parts = [stamp, _slug(report.get("suite", "report"))] + ([_slug(label)] if label else [])
    return write_json(report, reports_dir(settings) / ("-".join(parts) + SUFFIX))


def list_reports(settings: Settings, suite: str | None = None) -> list[str]:
    """Stored report names, newest first, optionally only one suite's."""
    folder = reports_dir(settings)
    if not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.glob(f"*{SUFFIX}") if not p.name.startswith(".")), reverse=True)
    return [n for n in names if suite is None or n.removesuffix(SUFFIX).split("-")[1] == _slug(suite)]


def read(settings: Settings, name: str) -> dict:
    """Load a stored report by file name (no paths: names come from the UI)."""
    if Path(name).name != name or not name.endswith(SUFFIX):
        raise ValueError(f"not a report name: {name!r}")
    return json.loads((reports_dir(settings) / name).read_text(encoding="utf-8"))


def metric_names(report: dict) -> list[str]:
    names: list[str] = []
    for result in report.get("methods", {}).values():
        names += [m for m in result["metrics"] if m not in names]
    return names


def _cell(value: float | None, err: float | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" + (f"±{err:.3f}" if err else "")


def _grid(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def format_table(report: dict) -> str:
    """Method x metric table (mean ± standard error over queries), then one table per segment."""
    metrics = metric_names(report)
    sha = report.get("data", {}).get("fingerprint", {}).get("sha256", "")
    out = [
        f"suite {report.get('suite')}  seed {report.get('seed')}  data sha256 {sha[:12]}",
        f"split: {report.get('split', '')}",
    ]
    if report.get("model_version"):
        out.append(f"model: {report['model_version']}")
    rows = []
    for name, result in report.get("methods", {}).items():
        secs = sum(v for v in result.get("seconds", {}).values())
        rows.append(
            [name]
            + [_cell(result["metrics"].get(m), result.get("std_err", {}).get(m)) for m in metrics]
            + [str(result.get("n", "")), f"{secs:.1f}"]
        )
    out += [""] + _grid(["method"] + metrics + ["n", "sec"], rows)
    segment_names: list[str] = []
    for result in report.get("methods", {}).values():
        segment_names += [s for s in result.get("segments", {}) if s not in segment_names]
    for segment in segment_names:
        seg_metrics: list[str] = []
        for result in report["methods"].values():
            seg = result.get("segments", {}).get(segment, {})
            seg_metrics += [m for m in seg.get("metrics", {}) if m not in seg_metrics]
        seg_rows = []
        for name, result in report["methods"].items():
            seg = result.get("segments", {}).get(segment)
            if seg is not None:
                seg_rows.append([name] + [_cell(seg["metrics"].get(m)) for m in seg_metrics] + [str(seg["n"])])
        out += ["", f"segment: {segment}"] + _grid(["method"] + seg_metrics + ["n"], seg_rows)
    if report.get("missing_methods"):
        out += [""] + [f"missing: {k} ({v})" for k, v in report["missing_methods"].items()]
    return "\n".join(out)
