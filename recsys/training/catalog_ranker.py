"""Train the catalog's LightGBM ranker without judgments: from click logs when there are enough, else from
weak attribute-agreement labels on queries generated from the catalog itself.

Every training list is produced by the serving code path (``SearchSnapshot.recall`` on a snapshot of the served
index, then ``build_features`` with that state's priors), so the model learns on exactly the features it is
served. Held-out items (``recsys.splits.is_holdout(external_id)``) are never query sources: their queries
are kept for measuring (benchmarks/bench_ranker.py --catalog). The saved version's meta.json says which
labels trained it (``training.labels``), and weak labels are called weak there and in every report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsys.catalog import reads
from recsys.catalog.models import CHOICE_EVENTS
from recsys.catalog.store import CatalogStore
from recsys.progress import Progress
from recsys.ranking.catalog_queries import CatalogQuery, generate_queries
from recsys.ranking.cv import CVResult, train_and_save
from recsys.ranking.features import FEATURES, build_features
from recsys.ranking.labels import click_labels, graded_attribute_labels
from recsys.ranking.ranker import CATALOG
from recsys.search.recall import SearchSnapshot
from recsys.search.types import SearchRequest
from recsys.splits import is_holdout

log = logging.getLogger(__name__)

# A 4-configuration grid: catalog lists have ~200 rows each (5x a CrowdFlower list); one configuration took
# ~60 s on 600 queries on the shared 2-core machine, so the 24-config grid would take ~25 minutes.
CATALOG_GRID: dict[str, list[Any]] = {
    "num_leaves": [15, 31],
    "learning_rate": [0.1],
    "min_data_in_leaf": [40],
    "feature_fraction": [0.5, 0.9],
}
# The first start trains one of them: on the 5k demo the four scored 0.922-0.924 CV nDCG@10 (fold spread ±0.009)
# and took 75 s each, so the full grid kept the first start's "ranker served" at 11 min against its 8-minute goal.
# The smaller trees: every search explains its page with TreeSHAP, whose cost grows with trees x leaves (31 leaves
# x 184 rounds took 23 ms per page of 20 at 5k, and text search p95 65 ms). The Training tab and ``python -m recsys
# train ranker`` search the whole grid.
FIRST_START_GRID: dict[str, list[Any]] = {**CATALOG_GRID, "num_leaves": [15], "feature_fraction": [0.5]}
MAX_ROUNDS = 200
DEFAULT_MAX_QUERIES = 600
# Clicks replace weak labels once the log has this many clicked impressions over this many distinct queries:
# below that, tertiles of debiased CTR per query are mostly noise.
MIN_CLICKS = 200
MIN_CLICK_QUERIES = 50
WEAK_LABELS = "weak (attribute agreement)"


@dataclass
class LabelledLists:
    """Candidate lists with features and grades, rows grouped by query in order."""

    X: np.ndarray  # float32 [rows, len(FEATURES)]
    y: np.ndarray  # int32 grades
    query_index: np.ndarray  # int64 per row: index into ``queries``
    recall_rank: np.ndarray  # int64 per row: 0-based position in the recall (RRF) order
    queries: list[str] = field(default_factory=list)

    @property
    def groups(self) -> np.ndarray:
        return np.bincount(self.query_index, minlength=len(self.queries))


def _stack(parts: list[tuple[np.ndarray, np.ndarray]], queries: list[str]) -> LabelledLists:
    if not parts:
        return LabelledLists(
            np.zeros((0, len(FEATURES)), np.float32),
            np.zeros(0, np.int32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            [],
        )
    return LabelledLists(
        np.concatenate([X for X, _ in parts]),
        np.concatenate([y for _, y in parts]).astype(np.int32),
        np.repeat(np.arange(len(parts)), [len(y) for _, y in parts]),
        np.concatenate([np.arange(len(y)) for _, y in parts]),
        queries,
    )


def external_ids(catalog: CatalogStore, item_ids: np.ndarray) -> np.ndarray:
    """External id of each item id (object array aligned with ``item_ids``), the key ``is_holdout`` hashes."""
    with catalog.sessions() as session:
        found = reads.external_ids(session)
    return np.asarray([found.get(int(i), "") for i in item_ids], dtype=object)


def catalog_queries(
    catalog: CatalogStore, snapshot: SearchSnapshot, *, held_out: bool, max_queries: int, seed: int = 0
) -> list[CatalogQuery]:
    """Generated queries whose source items are all held out (``held_out=True``) or all not held out."""
    table = snapshot.state.table
    held = np.fromiter((is_holdout(e) for e in external_ids(catalog, table.ids)), bool, len(table))
    return generate_queries(
        table.ids, table.titles, table.leaf, table.colour, table.gender, held if held_out else ~held, max_queries, seed
    )


def weak_lists(
    snapshot: SearchSnapshot, queries: Sequence[CatalogQuery], progress: Progress | None = None
) -> LabelledLists:
    """Recall + serving features for each query, graded by attribute agreement with the query (weak labels).

    Lists where every candidate gets the same grade carry no ranking signal and are dropped.
    """
    state = snapshot.state
    parts, kept = [], []
    for n, query in enumerate(queries, start=1):
        got = snapshot.recall(SearchRequest(text=query.text, log=False))
        t, rows = state.table, got.rows
        y = graded_attribute_labels(
            query.attributes, {"article_type": t.leaf[rows], "colour": t.colour[rows], "gender": t.gender[rows]}
        ).values
        if len(y) > 1 and y.min() < y.max():
            parts.append((build_features(got.candidates, state.priors), y))
            kept.append(query.text)
        if progress is not None:
            progress(n, len(queries), "recall + features")
    return _stack(parts, kept)


def click_log(catalog: CatalogStore) -> pd.DataFrame:
    """One row per (session, query, impressed item): 1-based position, clicked 0/1 (click, cart or purchase)."""
    with catalog.sessions() as session:
        rows = reads.query_events(session)
    events = pd.DataFrame(rows, columns=["session_id", "query", "item_id", "event", "position"])
    keys = ["session_id", "query", "item_id"]
    shown = events[(events["event"] == "impression") & events["position"].notna()]
    shown = shown.groupby(keys, as_index=False)["position"].min()
    clicked = events.loc[events["event"].isin(CHOICE_EVENTS), keys].drop_duplicates().assign(clicked=1)
    out = shown.merge(clicked, on=keys, how="left")
    return out.assign(clicked=out["clicked"].fillna(0).astype(int), position=out["position"].astype(int))


def enough_clicks(log_frame: pd.DataFrame) -> bool:
    clicked = log_frame[log_frame["clicked"] == 1]
    return len(clicked) >= MIN_CLICKS and clicked["query"].nunique() >= MIN_CLICK_QUERIES


def click_lists(
    snapshot: SearchSnapshot, log_frame: pd.DataFrame, eta: float = 1.0, progress: Progress | None = None
) -> LabelledLists:
    """Per logged query: the candidates recall returns now that were impressed for it, graded by debiased
    clicks (``labels.click_labels``); candidates never shown for the query have no label and are left out."""
    frame, _ = click_labels(log_frame, eta)
    grade = {(q, int(i)): int(g) for q, i, g in zip(frame["query"], frame["item_id"], frame["label"])}
    queries = sorted(frame.loc[frame["label"] > 0, "query"].unique())
    parts, kept = [], []
    for n, text in enumerate(queries, start=1):
        got = snapshot.recall(SearchRequest(text=text, log=False))
        labelled = np.asarray([(text, int(i)) in grade for i in got.item_ids], bool)
        y = np.asarray([grade.get((text, int(i)), 0) for i in got.item_ids[labelled]], np.int32)
        if len(y) > 1 and y.min() < y.max():
            parts.append((build_features(got.candidates, snapshot.state.priors)[labelled], y))
            kept.append(text)
        if progress is not None:
            progress(n, len(queries), "recall + features")
    return _stack(parts, kept)


def train_catalog_ranker(
    catalog: CatalogStore,
    snapshot: SearchSnapshot,
    *,
    max_queries: int = DEFAULT_MAX_QUERIES,
    seed: int = 0,
    grid: Mapping[str, Sequence[Any]] = CATALOG_GRID,
    max_rounds: int = MAX_ROUNDS,
    models_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[CVResult, Path]:
    """Grouped CV over the grid, refit, save under ``models_dir/ranker/catalog/`` (default: the catalog's)."""
    log_frame = click_log(catalog)
    if enough_clicks(log_frame):
        data, labels = click_lists(snapshot, log_frame, progress=progress), "clicks (IPS, eta=1)"
        extra: dict[str, Any] = {"weak": False, "clicked_impressions": int(log_frame["clicked"].sum())}
    else:
        queries = catalog_queries(catalog, snapshot, held_out=False, max_queries=max_queries, seed=seed)
        data, labels = weak_lists(snapshot, queries, progress), WEAK_LABELS
        extra = {
            "weak": True,
            "query_sources": "generated from non-held-out items (recsys.splits.is_holdout)",
            "generated_queries": len(queries),
            "clicked_impressions": int(log_frame["clicked"].sum()) if len(log_frame) else 0,
        }
    if len(data.queries) < 5:
        raise ValueError(f"only {len(data.queries)} usable query lists; grouped 5-fold CV needs at least 5")
    log.info("training catalog ranker on %d queries, %d rows, labels: %s", len(data.queries), len(data.y), labels)
    training = {"labels": labels, "queries": len(data.queries), "rows": len(data.y), "seed": seed, **extra}
    return train_and_save(
        data.X,
        data.y,
        data.query_index,
        FEATURES.names,
        models_dir or catalog.settings.models_dir,
        purpose=CATALOG,
        training=training,
        grid=grid,
        seed=seed,
        max_rounds=max_rounds,
        progress=None if progress is None else lambda d, n: progress(d, n, "grid search"),
    )
