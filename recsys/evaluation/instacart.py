"""Instacart next-basket suite: predict each user's last basket from their earlier ones.

Candidates are the whole catalogue; metrics are Recall/NDCG/HitRate@20 per user, recall inside head and tail
items of each target basket (tail = outside the top 20% of products by fit-data orders), catalogue coverage
and Gini of how often each product is recommended.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from recsys.config import Settings
from recsys.evaluation import instacart_data, instacart_import, next_basket
from recsys.evaluation.dataset import fingerprint, resolve_suite_dir
from recsys.evaluation.metrics import (
    catalog_coverage,
    hit_rate_at_k,
    ndcg_at_k,
    recall_at_k,
    recommendation_gini,
)
from recsys.evaluation.results import method_result, new_report, stopwatch
from recsys.recommend import served_nextbasket
from recsys.recommend.nextbasket import taillift_methods

NAME = "instacart"
K = 20
HEAD_FRACTION = 0.2
MISSING: dict[str, str] = {}  # every TailLift method is implemented (recsys.recommend)


def _restricted_recall(ranked: list, target: frozenset, keep: frozenset, inside: bool) -> float:
    part = {i for i in target if (i in keep) == inside}
    return recall_at_k(ranked, part, K) if part else math.nan


def score_recommendations(
    recs: dict[int, list], data: instacart_data.NextBasketData, head: frozenset, seconds: dict, notes: str = ""
) -> dict:
    users = sorted(data.targets)
    ranked = [recs[u] for u in users]
    truths = [data.targets[u] for u in users]
    per_query = {
        f"recall@{K}": np.array([recall_at_k(r, t, K) for r, t in zip(ranked, truths)]),
        f"ndcg@{K}": np.array([ndcg_at_k(r, t, K) for r, t in zip(ranked, truths)]),
        f"hit_rate@{K}": np.array([hit_rate_at_k(r, t, K) for r, t in zip(ranked, truths)]),
    }
    head_recall = np.array([_restricted_recall(r, t, head, True) for r, t in zip(ranked, truths)])
    tail_recall = np.array([_restricted_recall(r, t, head, False) for r, t in zip(ranked, truths)])
    per_query[f"tail_recall@{K}"] = tail_recall
    extra = {
        f"coverage@{K}": catalog_coverage(ranked, data.catalog.size, K),
        f"gini@{K}": recommendation_gini(ranked, data.catalog.tolist(), K),
    }
    segments = {"head items": {f"recall@{K}": head_recall}, "tail items": {f"recall@{K}": tail_recall}}
    return method_result(per_query, extra=extra, seconds=seconds, notes=notes, segment_values=segments)


def run(
    data_dir: Path | str, train_dir: Path | str | None = None, settings: Settings | None = None, seed: int = 0
) -> dict:
    settings = settings or Settings.from_env()  # the served row uses the app's tail share and shopper window
    timings: dict = {}
    with stopwatch(timings, "load"):
        data_path = resolve_suite_dir(data_dir, NAME, instacart_data.ORDER_FILE)
        train_path = resolve_suite_dir(train_dir, NAME, instacart_data.ORDER_FILE) if train_dir else None
        # Through the app's own importers (catalog + import-events) into a throwaway catalog: what is evaluated
        # is what the app would serve.
        with tempfile.TemporaryDirectory(prefix="instacart-eval-") as work:
            data, imported = instacart_import.load(data_path, train_path, Path(work))
        head = instacart_data.head_items(data.fit, HEAD_FRACTION)
    split = "each user's last order is the target, earlier orders are history; " + (
        "models fit on the users' earlier orders only (no train dir)"
        if train_path is None
        else f"models fit on {train_path} with {data.dropped_fit_lines} lines of target orders removed"
    )
    train_info = (
        None
        if train_path is None
        else {"dir": str(train_path), "fingerprint": fingerprint(train_path, instacart_data.FILES)}
    )
    report = new_report(NAME, data_path, fingerprint(data_path, instacart_data.FILES), seed, split, train_info)
    report["dataset"] = {
        "users": len(data.targets),
        "catalog": int(data.catalog.size),
        "fit_lines": len(data.fit),
        "head_items": len(head),
        "tail_rule": f"tail = outside the top {HEAD_FRACTION:.0%} of fit-data products by orders",
        "imported_through": "catalog import + import-events into a throwaway SQLite catalog",
        "import": imported,
    }
    users = sorted(data.targets)

    seconds: dict = {}
    with stopwatch(seconds, "fit"):
        popular = next_basket.popularity_ranking(data.fit, data.catalog)
    methods = {
        "random": lambda: next_basket.recommend_random(users, data.catalog, K, seed),
        "popularity": lambda: next_basket.recommend_popular(users, popular, K),
        "cooccurrence": lambda: next_basket.recommend_cooccurrence(
            users, data.histories, data.fit, data.catalog, popular, K
        ),
        "personal_history": lambda: next_basket.recommend_history(users, data.histories, popular, K),
    }
    notes = {
        "cooccurrence": "score = co-basket counts with the user's distinct past items; popular fill",
        "personal_history": "own past items by order count, ties to most recent; popular fill",
    }
    for name, recommend in methods.items():
        method_seconds = {"fit": seconds["fit"]} if name != "random" else {}
        with stopwatch(method_seconds, "score"):
            recs = recommend()
        report["methods"][name] = score_recommendations(recs, data, head, method_seconds, notes.get(name, ""))
    # TailLift: tuned on a validation split carved from the fit history (recsys.recommend.validation)
    for name, tl in taillift_methods(
        data.fit, data.histories, users, data.catalog, data_path / "products.csv", K, data.target_orders
    ).items():
        report["methods"][name] = score_recommendations(tl.recommendations, data, head, tl.seconds, tl.notes)
    # What the app serves: its For you list (served model + exposure re-rank at the configured tail share)
    served_seconds: dict = {}
    with stopwatch(served_seconds, "fit"):
        model = served_nextbasket.fit_served_on_lines(
            data_path,
            data.catalog,
            data.fit,
            ranker=settings.recommend_ranker,
            novelty_price=settings.novelty_price,
            shopper_events=settings.shopper_events,
        )
    with stopwatch(served_seconds, "score"):
        recs = served_nextbasket.served_recommendations(
            model, data.histories, users, K, settings.tail_share, settings.shopper_events
        )
    served_notes = (
        f"the app's For you (lists.for_shopper): served model over {model.n_items} products and {model.events} "
        f"purchase events, the newest {settings.shopper_events} history lines, tail share {settings.tail_share}, "
        + (
            f"learned re-ranker ({'fitted' if model.ranker is not None else 'too few shoppers: hand blend'}), "
            f"exposure allocation at novelty price {settings.novelty_price}"
            if settings.recommend_ranker
            else "hand blend"
        )
    )
    report["methods"]["served"] = score_recommendations(recs, data, head, served_seconds, served_notes)
    report["missing_methods"] = dict(MISSING)
    report["timings"] = timings
    return report
