"""Replay suite: how well the app's own recommenders predict what its shoppers did next, on its own event log.

``recsys eval replay --data-dir DIR [--split-at ISO | --test-fraction 0.2] [--k 20]``. The log is split by time
(``replay_log.split_log``): the served recommenders (``recommend.served.fit_served``, the code the app serves) are
fitted on the events before T only, and each shopper's list is what the app would show at T: "For you" from their
newest ``shopper_events`` events before T (``lists.for_shopper``: what they bought may come back, what they only
viewed is left out; re-ranked to the app's tail share), the cold-start list for a shopper with no events before
T. Two targets, scored apart: the items each shopper **purchased** at or after T, and the items they **viewed or
clicked**.

Beside it: ``for_you_relevance`` (the same ranking at tail share 0, without the exposure allocation),
``popularity`` (items by fit-period events) and ``personal_history`` (the shopper's own fit-period items by event
weight, ties to the most recent, popular fill). Metrics: Recall@k, nDCG@k, tail-item recall (tail rule in the
report), catalog coverage and Gini; segments are head vs tail items of each target and returning vs new shoppers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np

from recsys.catalog.store import CatalogStore
from recsys.config import Settings, get_settings
from recsys.evaluation.metrics import catalog_coverage, ndcg_at_k, recall_at_k, recommendation_gini
from recsys.evaluation.replay_log import (
    HEAD_EVENT_SHARE,
    Split,
    TimedEvent,
    head_by_event_share,
    log_fingerprint,
    parse_time,
    read_events,
    read_items,
    split_log,
)
from recsys.evaluation.results import method_result, new_report, stopwatch
from recsys.recommend import lists
from recsys.recommend.exposure import ExposureLedger
from recsys.recommend.served import EVENT_WEIGHTS, FILL_EXPOSURE_SCALE, ItemRow, ServedModel, fit_served

NAME = "replay"
K = 20
DEFAULTS = Settings()  # the app's own: tail share and how many of a shopper's newest events a list reads
TARGETS = {"purchases": ("purchase",), "views/clicks": ("view", "click")}
MIN_EVENTS = 100  # the app replays itself only past this many interest events (fewer say little)

Lists = dict[str, list[int]]  # shopper -> item indices, best first


def _history(fit: list[TimedEvent], model: ServedModel, newest: int | None) -> dict[str, dict[int, float]]:
    """shopper -> {index: weight} of their ``newest`` fit events (None: all), oldest first, as the app builds it
    (``Recommendations.shopper_weights``): a repeated item moves to the newest place."""
    by_shopper: dict[str, list[TimedEvent]] = {}
    for e in fit:
        by_shopper.setdefault(e.row.shopper, []).append(e)
    out: dict[str, dict[int, float]] = {}
    for shopper, rows in by_shopper.items():
        weights: dict[int, float] = {}
        for e in rows if newest is None else rows[-newest:]:  # ``fit`` is oldest first
            index = model.index_of([e.row.item_id])
            if index:
                weights[index[0]] = weights.pop(index[0], 0.0) + EVENT_WEIGHTS[e.row.event]
        if weights:
            out[shopper] = weights
    return out


def _targets(test: list[TimedEvent], model: ServedModel, events: tuple[str, ...]) -> dict[str, frozenset[int]]:
    found: dict[str, set[int]] = {}
    for e in test:
        if e.row.event in events:
            found.setdefault(e.row.shopper, set()).update(model.index_of([e.row.item_id]))
    return {s: frozenset(items) for s, items in sorted(found.items()) if items}


def _fill(ranked: list[int], backfill: list[int], k: int) -> list[int]:
    seen, out = set(ranked[:k]), list(ranked[:k])
    out += [i for i in backfill if i not in seen][: k - len(out)]
    return out


def _methods(
    model: ServedModel,
    history: dict[str, dict[int, float]],
    everything: dict[str, dict[int, float]],
    counts: np.ndarray,
    k: int,
    tail_share: float,
) -> dict[str, Callable[[str], list[int]]]:
    popular = [int(i) for i in np.lexsort((np.arange(counts.size), -counts))[: k * 2]]

    def for_you(share: float, allocated: bool) -> Callable[[str], list[int]]:
        # Each setting is served as by its own deployment: what one showed must not discount the other's fill.
        shown = ExposureLedger(model.n_items, FILL_EXPOSURE_SCALE)

        def recommend(shopper: str) -> list[int]:
            model.exposure = shown
            weights = history.get(shopper)
            picks = (
                lists.for_shopper(model, weights, k, share, swap=model.swap_for([shopper]) if allocated else None)
                if weights
                else lists.cold_start(model, k, share, shopper or "anonymous")
            )
            return [p.index for p in picks]

        return recommend

    def own(shopper: str) -> list[int]:
        weights = everything.get(shopper, {})
        recency = {index: place for place, index in enumerate(weights)}  # later = newer
        ranked = sorted(weights, key=lambda i: (-weights[i], -recency[i], i))
        return _fill(ranked, popular, k)

    return {
        "for_you": for_you(tail_share, True),
        "for_you_relevance": for_you(0.0, False),
        "popularity": lambda shopper: popular[:k],
        "personal_history": own,
    }


def _score(
    recs: Lists, truths: dict[str, frozenset[int]], returning: set[str], is_tail: np.ndarray, n_items: int, k: int
) -> tuple[dict, dict, dict, np.ndarray]:
    shoppers = sorted(truths)
    ranked = [recs[s] for s in shoppers]
    truth = [truths[s] for s in shoppers]

    def part(items: frozenset[int], tail: bool) -> frozenset[int]:
        return frozenset(i for i in items if bool(is_tail[i]) == tail)

    def recall_in(r: list[int], t: frozenset[int], tail: bool) -> float:
        p = part(t, tail)
        return recall_at_k(r, p, k) if p else float("nan")

    tail_recall = np.array([recall_in(r, t, True) for r, t in zip(ranked, truth)])
    head_recall = np.array([recall_in(r, t, False) for r, t in zip(ranked, truth)])
    per_query = {
        f"recall@{k}": np.array([recall_at_k(r, t, k) for r, t in zip(ranked, truth)]),
        f"ndcg@{k}": np.array([ndcg_at_k(r, t, k) for r, t in zip(ranked, truth)]),
        f"tail_recall@{k}": tail_recall,
    }
    extra = {
        f"coverage@{k}": catalog_coverage(ranked, n_items, k),
        f"gini@{k}": recommendation_gini(ranked, range(n_items), k),
    }
    segment_values = {"head items": {f"recall@{k}": head_recall}, "tail items": {f"recall@{k}": tail_recall}}
    back = np.array([s in returning for s in shoppers], dtype=bool)
    return per_query, extra, segment_values, back


def replay(
    items: list[ItemRow],
    events: list[TimedEvent],
    split_at: datetime | None = None,
    test_fraction: float = 0.2,
    k: int = K,
    tail_share: float = DEFAULTS.tail_share,
    shopper_events: int = DEFAULTS.shopper_events,
    ranker: bool = DEFAULTS.recommend_ranker,
    novelty_price: float = DEFAULTS.novelty_price,
) -> dict:
    """The report body (methods, dataset) for one log; ``run`` adds where it came from."""
    if k <= 0:
        raise ValueError(f"--k must be positive, got {k}")
    split: Split = split_log(events, split_at, test_fraction)
    timings: dict = {}
    with stopwatch(timings, "fit"):
        model = fit_served(
            items,
            [e.row for e in split.fit],
            ranker=ranker,
            shopper_events=shopper_events,
            novelty_price=novelty_price,
            k=k,
        )
    if not model.n_items:
        raise ValueError("the catalog has no items")
    k = min(k, model.n_items)
    history = _history(split.fit, model, shopper_events)
    counts = np.zeros(model.n_items)
    for e in split.fit:
        for index in model.index_of([e.row.item_id]):
            counts[index] += 1
    is_tail = ~head_by_event_share(counts)
    methods = _methods(model, history, _history(split.fit, model, None), counts, k, tail_share)
    out: dict = {"methods": {}, "timings": timings}
    shoppers_scored: dict[str, int] = {}
    for target, kinds in TARGETS.items():
        truths = _targets(split.test, model, kinds)
        shoppers_scored[target] = len(truths)
        if not truths:
            continue
        for name, recommend in methods.items():
            seconds: dict = {"fit": timings["fit"]} if name.startswith("for_you") else {}
            with stopwatch(seconds, "score"):
                recs = {s: recommend(s) for s in truths}
            per_query, extra, segment_values, back = _score(recs, truths, set(history), is_tail, model.n_items, k)
            shopper_segments = {"returning shoppers": back, "new shoppers": ~back}
            result = method_result(
                per_query,
                segments={name: mask for name, mask in shopper_segments.items() if mask.any()},
                extra=extra,
                seconds=seconds,
                segment_values=segment_values,
            )
            out["methods"][f"{name} [{target}]"] = result
    if not out["methods"]:
        raise ValueError(f"no shopper purchased, viewed or clicked a catalog item at or after {split.at.isoformat()}")
    out["split"] = (
        f"time split at {split.at.isoformat()} ({split.rule}): served recommenders fitted on the {len(split.fit)} "
        f"events before T only; each shopper's items purchased (and, apart, viewed or clicked) from T on are the target"
    )
    out["dataset"] = {
        "split_at": split.at.isoformat(),
        "fit_events": len(split.fit),
        "test_events": len(split.test),
        "catalog": model.n_items,
        "shoppers_with_history": len(history),
        "shoppers_scored": shoppers_scored,
        "head_items": int((~is_tail).sum()),
        "tail_rule": f"head = the most interacted items holding {HEAD_EVENT_SHARE:.0%} of the events before T; "
        "tail = every other catalog item",
        "k": k,
        "tail_share": tail_share,
    }
    out["notes"] = [
        f"for_you is the app's list: built from the shopper's newest {shopper_events} events before T; items they "
        "bought may come back (buy again), items they only viewed or clicked are left out; personal_history ranks "
        "the whole own history",
        f"for_you re-ranks to tail share {tail_share} (with the refit's exposure allocation when the learned "
        "re-ranker serves); for_you_relevance is the same ranking at 0 without the allocation",
    ]
    return out


def replay_store(
    store: CatalogStore,
    data_dir: Path | str,
    seed: int = 0,
    split_at: datetime | None = None,
    test_fraction: float = 0.2,
    k: int = K,
    tail_share: float = DEFAULTS.tail_share,
    shopper_events: int = DEFAULTS.shopper_events,
    ranker: bool = DEFAULTS.recommend_ranker,
    novelty_price: float = DEFAULTS.novelty_price,
) -> dict:
    """A full report over the log in ``store`` (what the app runs after a refit)."""
    with store.sessions() as session:
        items = read_items(session)
        events = read_events(session)
    body = replay(items, events, split_at, test_fraction, k, tail_share, shopper_events, ranker, novelty_price)
    report = new_report(NAME, Path(data_dir), log_fingerprint(items, events), seed, body.pop("split"))
    report.update(body)
    report["missing_methods"] = {}
    return report


def run(
    data_dir: Path | str,
    train_dir: Path | str | None = None,
    settings: Settings | None = None,
    seed: int = 0,
    split_at: str | None = None,
    test_fraction: float = 0.2,
    k: int = K,
) -> dict:
    """The suite entry (``recsys eval replay``): ``data_dir`` is an app data dir holding its catalog."""
    if train_dir is not None:
        raise ValueError("replay fits on the log's own events before T: --train does not apply")
    settings = settings or get_settings()
    folder = Path(data_dir)
    if folder.resolve() == settings.data_dir.resolve():
        target = settings  # the configured deployment, its database URL included
    else:
        if not (folder / "catalog.sqlite3").is_file():
            raise FileNotFoundError(f"no catalog in {folder} (expected {folder / 'catalog.sqlite3'})")
        target = Settings.from_env({"data_dir": folder, "database_url": ""}, environ={})
    when = parse_time(split_at) if split_at else None
    store = CatalogStore(target)
    try:
        return replay_store(
            store,
            folder,
            seed,
            when,
            test_fraction,
            k,
            settings.tail_share,
            settings.shopper_events,
            settings.recommend_ranker,
            settings.novelty_price,
        )
    finally:
        store.close()
