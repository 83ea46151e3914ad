"""What the app's own runs measured, for the Evaluation tab: the Training tab's before/after comparisons (fashion
reports stored under ``data_dir/reports`` by ``encoder_comparison``), the rankers' cross-validation (``cv_scores``
in each ranker version's ``meta.json``) and each encoder version's validation recall (its ``config.json``).

Only files are read (no model is loaded), so the tab can list them on every page load.
"""

from __future__ import annotations

import json
from pathlib import Path

from recsys import registry
from recsys.config import Settings
from recsys.evaluation import report as reports
from recsys.ranking.ranker import PURPOSES, purpose_root
from recsys.training.encoder_runs import encoder_versions

AFTER_LABEL = "-fashion-after-"  # in the names of the comparisons' "after" reports (``report.store`` labels)


def training_comparisons(settings: Settings) -> list[dict]:
    """Newest first: the after/before report names, versions, evaluation size and headline entry of each."""
    found = []
    for name in reports.list_reports(settings, suite="fashion"):
        if AFTER_LABEL not in name:
            continue
        entry = reports.read(settings, name).get("comparison")
        if not entry or entry.get("role") != "after":  # e.g. a CLI report labelled "after-…" by hand
            continue
        found.append(
            {
                "after_report": name,
                "before_report": entry.get("before_report"),
                "child": entry["child"],
                "parent": entry.get("parent"),
                "size": entry.get("size", ""),
                "headline": entry.get("headline", {}),
                "created": name.split("-")[0],
            }
        )
    return found


def ranker_results(settings: Settings) -> list[dict]:
    """Newest first per purpose: each saved ranker version's cross-validation and what it was trained on."""
    found = []
    for purpose in PURPOSES:
        root = purpose_root(settings.models_dir, purpose)
        if not root.is_dir():
            continue
        for folder in sorted((p for p in root.iterdir() if (p / "meta.json").is_file()), reverse=True):
            meta = _read_json(folder / "meta.json")
            if meta is None:
                continue
            cv = meta.get("cv_scores") or {}
            found.append(
                {
                    "purpose": purpose,
                    "version": folder.name,
                    "created": meta.get("created_at", ""),
                    "metric": cv.get("metric", ""),
                    "mean": cv.get("mean"),
                    "std": cv.get("std"),
                    "folds": cv.get("n_splits"),
                    "configs": len(cv.get("grid", [])),
                    "training": meta.get("training", {}),
                }
            )
    return found


def encoder_validations(settings: Settings) -> list[dict]:
    """Newest first: version, created, parent, validation recall@10 and on how many pairs it was measured."""
    rows = []
    for row in encoder_versions(settings):
        metrics = registry.read_config(registry.version_dir(settings, row["version"])).get("metrics", {})
        rows.append({**row, "pairs": metrics.get("pairs"), "metrics_on": metrics.get("metrics_on", "")})
    return rows


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a version being written or a damaged file: left out, not fatal to the tab
        return None
