"""Report assembly shared by the suites: per-method overall/segment metrics, timings, the report skeleton.

Report layout (JSON-safe; ``report.py`` stores it, ``format_table`` prints it)::

    {"suite", "created", "seed", "data": {"dir", "fingerprint"}, "train": {...} | None, "split": str,
     "methods": {name: {"metrics": {metric: mean}, "std_err": {metric: se}, "n": int,
                        "segments": {segment: {"n": int, "metrics": {metric: mean}}},
                        "seconds": {"fit": s, "score": s}, "notes": str}},
     "missing_methods": {name: why}, "timings": {...}, "notes": [...]}
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from recsys.evaluation.metrics import summarize


@contextmanager
def stopwatch(into: dict, key: str) -> Iterator[None]:
    """Adds the wall time of the block to ``into[key]`` (seconds, 3 decimals)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        into[key] = round(into.get(key, 0.0) + time.perf_counter() - start, 3)


def _clean(value: float) -> float | None:
    # JSON has no NaN: an undefined metric is stored as null.
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def method_result(
    per_query: Mapping[str, np.ndarray],
    segments: Mapping[str, np.ndarray] | None = None,
    extra: Mapping[str, float] | None = None,
    seconds: Mapping[str, float] | None = None,
    notes: str = "",
    segment_values: Mapping[str, Mapping[str, np.ndarray]] | None = None,
) -> dict:
    """Summarise per-query metric arrays overall and inside each boolean segment mask.

    ``segment_values`` carries segments that are not subsets of queries (e.g. head vs tail *items* of each
    basket): segment -> metric -> per-query array, nan where the segment is empty for that query.
    """
    metrics, std_err, n = {}, {}, 0
    for name, values in per_query.items():
        s = summarize(values)
        metrics[name], std_err[name], n = _clean(s["mean"]), _clean(s["std_err"]), max(n, s["n"])
    for name, value in (extra or {}).items():
        metrics[name] = _clean(value)
    seg_out = {}
    for seg_name, mask in (segments or {}).items():
        mask = np.asarray(mask, dtype=bool)
        seg_metrics = {name: _clean(summarize(np.asarray(v)[mask])["mean"]) for name, v in per_query.items()}
        seg_out[seg_name] = {"n": int(mask.sum()), "metrics": seg_metrics}
    for seg_name, values_by_metric in (segment_values or {}).items():
        summaries = {name: summarize(v) for name, v in values_by_metric.items()}
        seg_out[seg_name] = {
            "n": max((s["n"] for s in summaries.values()), default=0),
            "metrics": {name: _clean(s["mean"]) for name, s in summaries.items()},
        }
    return {
        "metrics": metrics,
        "std_err": std_err,
        "n": n,
        "segments": seg_out,
        "seconds": dict(seconds or {}),
        "notes": notes,
    }


def new_report(suite: str, data_dir: Path, fingerprint: dict, seed: int, split: str, train: dict | None = None) -> dict:
    return {
        "suite": suite,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "data": {"dir": str(data_dir), "fingerprint": fingerprint},
        "train": train,
        "split": split,
        "methods": {},
        "missing_methods": {},
        "timings": {},
        "notes": [],
    }
