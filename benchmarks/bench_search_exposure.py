"""Search's exposure knob (RECSYS_TAIL_SHARE): relevance against tail share of impressions, coverage and Gini.

    HF_HUB_OFFLINE=1 PYTHONPATH=. python benchmarks/bench_search_exposure.py --data-dir /tmp/sx5k

The data dir is a built TailLift catalog (docs/ranking.md: the fashion demo's first 5,000 rows, models loaded).
1. **Traffic** (what the events table would hold): queries generated from the catalog's NOT held-out items
   (``catalog_queries``, seed 0) are served at tail share 0 and every hit of their first page counts as one
   impression; the tail is ``search.exposure.tail_from_counts`` of those impressions, the app's rule.
2. **Measured**: queries generated from HELD-OUT items (seed 1), graded by attribute agreement (weak labels,
   ``graded_attribute_labels``); each page is what ``SearchEngine.search`` serves (recall, ranker, understanding
   boost, ``exposure.rerank_page``) at each tail share. nDCG@10 (gains 2**g - 1, ideal over all candidates) ± the
   standard error over queries, its paired change against share 0; tail share of the pages' impressions, catalog
   coverage (distinct items shown / catalog) and exposure Gini over the whole catalog.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from recsys.config import Settings
from recsys.ranking.labels import graded_attribute_labels
from recsys.ranking.ndcg import dcg
from recsys.recommend.exposure import exposure_stats
from recsys.search import exposure
from recsys.search.query_understanding_boost import rank_understood
from recsys.search.rank import Ranked
from recsys.search.types import SearchRequest
from recsys.service.taillift import TailLiftService
from recsys.training.catalog_ranker import catalog_queries

SHARES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)


def deep_ranked(service: TailLiftService, text: str, depth: int):
    engine = service.engine
    snapshot = engine.snapshot()
    got = snapshot.recall(SearchRequest(text=text, log=False))
    if not len(got.item_ids):
        return got, None
    state = snapshot.state
    ranked = rank_understood(engine.ranking, got, state.table, state.priors, depth, engine.settings.understanding_boost)
    return got, ranked


def page_ndcg(grades: np.ndarray, page: np.ndarray, k: int) -> float:
    ideal = dcg(np.sort(grades)[::-1], k)
    return dcg(grades[page], k) / ideal if ideal > 0 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--traffic", type=int, default=600, help="traffic queries (not held-out items)")
    parser.add_argument("--queries", type=int, default=400, help="measured queries (held-out items)")
    parser.add_argument("--k", type=int, default=10, help="results page size")
    parser.add_argument("--all-candidates", action="store_true", help="also re-rank over every recalled candidate")
    args = parser.parse_args()
    k = args.k
    service = TailLiftService(Settings.from_env({"data_dir": args.data_dir, "demo_limit": 0}))
    service.load_models()
    engine = service.engine
    table = engine.holder.get().table
    print(f"catalog {len(table)} items; ranker {engine.ranking.version}; page k={k}")

    start = time.perf_counter()
    shown = np.zeros(len(table), dtype=np.float64)
    traffic = catalog_queries(service.store, engine.snapshot(), held_out=False, max_queries=args.traffic, seed=0)
    for query in traffic:
        got, ranked = deep_ranked(service, query.text, k)
        if ranked is not None:
            np.add.at(shown, got.rows[ranked.order[:k]], 1)
    tail = exposure.tail_from_counts(shown)
    print(
        f"traffic: {len(traffic)} queries, {int(shown.sum())} impressions on {int((shown > 0).sum())} items; "
        f"head {int((~tail).sum())} items hold {exposure.HEAD_EXPOSURE:.0%}; tail {int(tail.sum())} "
        f"({time.perf_counter() - start:.0f} s)"
    )

    variants: list[tuple[str, float, int | None]] = [(f"{s:g}", s, exposure.depth_for(k, s)) for s in SHARES]
    if args.all_candidates:
        variants += [(f"{s:g}, all candidates", s, None) for s in (0.1, 0.3)]
    queries = catalog_queries(service.store, engine.snapshot(), held_out=True, max_queries=args.queries, seed=1)
    ndcg: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    pages: dict[str, list[list[int]]] = {name: [] for name, _, _ in variants}
    timings: list[float] = []
    for query in queries:
        got, ranked = deep_ranked(service, query.text, len(table))
        if ranked is None:
            continue
        t = table
        grades = graded_attribute_labels(
            query.attributes,
            {"article_type": t.leaf[got.rows], "colour": t.colour[got.rows], "gender": t.gender[got.rows]},
        ).values
        if grades.min() == grades.max():
            continue  # no ranking signal (the same kept-list rule as the ranker's benchmark)
        for name, share, depth in variants:
            cut: Ranked = ranked if depth is None else replace(ranked, order=ranked.order[:depth])
            began = time.perf_counter()
            page = exposure.rerank_page(cut, tail[got.rows], k, share).order
            timings.append((time.perf_counter() - began) * 1000)
            ndcg[name].append(page_ndcg(grades, page, k))
            pages[name].append(got.rows[page].tolist())
    base = np.asarray(ndcg[variants[0][0]])
    n = base.size
    print(f"measured: {n} held-out item queries with graded candidates; re-rank median {np.median(timings):.3f} ms")
    print("| tail share | nDCG@10 | change vs 0 | tail share of impressions | coverage@10 | exposure Gini |")
    print("|---|---|---|---|---|---|")
    for name, _, _ in variants:
        values = np.asarray(ndcg[name])
        diff = values - base
        stats = exposure_stats(pages[name], tail)
        print(
            f"| {name} | {values.mean():.4f} ± {values.std() / np.sqrt(n):.4f} | {diff.mean():+.4f} ± "
            f"{diff.std() / np.sqrt(n):.4f} | {stats['tail_share']:.3f} | {stats['coverage']:.4f} | "
            f"{stats['gini']:.4f} |"
        )


if __name__ == "__main__":
    main()
