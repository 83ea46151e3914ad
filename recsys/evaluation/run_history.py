"""What the app's own runs measured, for the Evaluation tab: the Training tab's before/after comparisons (fashion
reports stored under ``data_dir/reports`` by ``encoder_comparison``), the rankers' cross-validation (``cv_scores``
in each ranker version's ``meta.json``), each encoder version's validation recall (its ``config.json``) and the
recommenders replayed on the app's own event log (``replay`` reports: after a refit, or ``recsys eval replay``).

Only files are read (no model is loaded), so the tab can list them on every page load.
"""

from __future__ import annotations

import json
from pathlib import Path

from recsys import registry
from recsys.config import Settings
from recsys.evaluation import report as reports
from recsys.ranking.ranker import PURPOSES, purpose_root
from recsys.recommend.served_store import REGISTRY_KIND as RECOMMENDER_KIND
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


REPLAY_SUITE = "replay"
APP_REPLAY_LABEL = "app"  # ``report.store`` label of the replays the app runs after a refit
REPLAY_GROWTH = 0.1  # the app replays again once its log has grown by a tenth since the last replay


def replay_reports(settings: Settings) -> list[str]:
    """Stored replay report names, newest first, with or without a label (``report.list_reports(suite=...)``
    misses an unlabelled ``<stamp>-replay.json``: it compares ``replay.json``)."""
    return [n for n in reports.list_reports(settings) if n.removesuffix(reports.SUFFIX).split("-")[1] == REPLAY_SUITE]


def replay_results(settings: Settings) -> list[dict]:
    """Newest first: each stored replay's split, sizes and, per target and method, the headline numbers (recall,
    nDCG, head and tail recall, coverage at the report's k)."""
    found = []
    for name in replay_reports(settings):
        try:
            report = reports.read(settings, name)
        except (OSError, ValueError):  # a damaged file: left out, not fatal to the tab
            continue
        dataset = report.get("dataset", {})
        k = dataset.get("k", 20)
        rows = []
        for method, result in report.get("methods", {}).items():
            metrics, segments = result.get("metrics", {}), result.get("segments", {})
            base, _, target = method.partition(" [")
            rows.append(
                {
                    "target": target.rstrip("]"),
                    "method": base,
                    "n": result.get("n"),
                    "recall": metrics.get(f"recall@{k}"),
                    "ndcg": metrics.get(f"ndcg@{k}"),
                    "head_recall": segments.get("head items", {}).get("metrics", {}).get(f"recall@{k}"),
                    "tail_recall": segments.get("tail items", {}).get("metrics", {}).get(f"recall@{k}"),
                    "coverage": metrics.get(f"coverage@{k}"),
                }
            )
        found.append(
            {
                "report": name,
                "created": name.split("-")[0],
                "by_app": name.removesuffix(reports.SUFFIX).endswith(f"-{APP_REPLAY_LABEL}"),
                "model_version": report.get("model_version"),
                "events": report.get("data", {}).get("fingerprint", {}).get("events"),
                "k": k,
                "dataset": dataset,
                "rows": rows,
            }
        )
    return found


def replay_due(settings: Settings, events: int) -> bool:
    """Whether the app should replay its log of ``events`` interest events now: none replayed yet, or the log has
    grown by ``REPLAY_GROWTH`` since the newest replay the app ran."""
    for name in replay_reports(settings):
        if not name.removesuffix(reports.SUFFIX).endswith(f"-{APP_REPLAY_LABEL}"):
            continue
        try:
            last = reports.read(settings, name).get("data", {}).get("fingerprint", {}).get("events")
        except (OSError, ValueError):
            continue
        return not isinstance(last, int) or events >= last * (1 + REPLAY_GROWTH)
    return True


def recommender_versions(settings: Settings) -> list[dict]:
    """Newest first: each recommender version in the model registry (parent, data fingerprint, what it was fitted
    on) with the newest replay of the app's log taken while it served, if any: its "for you" rows per target."""
    replays: dict[str, dict] = {}
    for found in replay_results(settings):  # newest first: the first one seen per version is its newest
        replays.setdefault(found["model_version"] or "", found)
    rows = []
    for version in reversed(registry.list_versions(settings, kind=RECOMMENDER_KIND)):
        config = registry.read_config(registry.version_dir(settings, version))
        replayed = replays.get(version)
        rows.append(
            {
                "version": version,
                "created": config.get("created", ""),
                "parent": config.get("parent"),
                "fingerprint": config.get("data_fingerprint", ""),
                "metrics": config.get("metrics", {}),
                "k": replayed["k"] if replayed else None,
                "for_you": [r for r in replayed["rows"] if r["method"] == "for_you"] if replayed else [],
            }
        )
    return rows
