"""Ranker benchmark: feature latency for 200 candidates and held-out nDCG@10 on CrowdFlower or a catalog.

    HF_HUB_OFFLINE=1 python benchmarks/bench_ranker.py [--data ../shared/data] [--cache-dir DIR] [--save]
    HF_HUB_OFFLINE=1 python benchmarks/bench_ranker.py --catalog DATA_DIR [--train-queries 600] [--eval-queries 400]

--catalog measures the catalog ranker on weak (attribute-agreement) labels; see catalog_benchmark below.

Held-out = the 20% of queries that ``recsys.splits.is_holdout`` selects; the ranker is trained (grid search,
GroupKFold(5) by query) on the other queries through ``fit_and_score_judgments``, the evaluation entry point.
nDCG@10 uses gains 2**(rel-1) - 1, ideal-normalised per query, ties in input order (see ranking/ndcg.py).
MiniLM embeddings are cached in --cache-dir (default: settings.data_dir/cache) so reruns skip encoding.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from recsys.config import REPO_ROOT, get_settings  # noqa: E402
from recsys.ranking.cv import sort_by_query, train_and_save  # noqa: E402
from recsys.ranking.fallback import fallback_scores  # noqa: E402
from recsys.ranking.features import FEATURES, CandidateList, ItemStats, RouteScores, build_features, fit_priors  # noqa: E402
from recsys.ranking.judgments import crowdflower_features, fit_and_score_judgments  # noqa: E402
from recsys.ranking.labels import graded_labels  # noqa: E402
from recsys.ranking.ndcg import group_offsets, mean_ndcg  # noqa: E402
from recsys.ranking.ranker import JUDGMENTS  # noqa: E402
from recsys.splits import is_holdout  # noqa: E402


def feature_latency(data: pd.DataFrame, runs: int = 50, n: int = 200, seed: int = 0) -> tuple[float, float]:
    """Median (wall ms, CPU ms) of ``build_features`` for n real CrowdFlower products, every family present.

    CPU time is reported beside wall time because on a shared machine wall time mostly measures the load.
    """
    rng = np.random.default_rng(seed)
    rows = data.sample(n, random_state=seed).fillna("")
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    impressions, clicks = rng.poisson(50, n).astype(float), rng.poisson(2, n).astype(float)
    counts = rng.poisson(3, n).astype(float)
    stats = ItemStats(
        rating_sum=counts * 4.2,
        rating_count=counts,
        sentiment_mean=rng.random(n),
        price=rng.lognormal(3, 1, n),
        category_price_mean=np.full(n, 3.0),
        category_price_std=np.full(n, 1.0),
        age_days=rng.integers(0, 400, n).astype(float),
        impressions=impressions,
        clicks=clicks,
    )
    candidates = CandidateList(
        "red leather women shoe number",
        rows["product_title"].tolist(),
        rows["product_description"].tolist(),
        RouteScores(*(rng.random(n) for _ in range(6))),
        stats,
        vectors,
        vectors[:3],
    )
    priors = fit_priors(stats.rating_sum, stats.rating_count, impressions, clicks)
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        build_features(candidates, priors)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def tail_types(article_types: np.ndarray, share: float = 0.2) -> set[str]:
    """The least frequent article types that together hold ``share`` of the items (the long tail)."""
    types, counts = np.unique(article_types.astype(str), return_counts=True)
    order = np.argsort(counts, kind="stable")
    within = np.cumsum(counts[order]) <= share * counts.sum()
    return set(types[order][within].tolist())


def _per_list(fn, X: np.ndarray, groups: np.ndarray) -> np.ndarray:
    bounds = group_offsets(groups)
    return np.concatenate([fn(X[a:b]) for a, b in zip(bounds[:-1], bounds[1:])])


def catalog_benchmark(data_dir: Path, train_queries: int, eval_queries: int, seed: int) -> None:
    """Train the catalog ranker (weak labels) and compare orders on queries generated from HELD-OUT items.

    Labels are weak: graded attribute agreement (article type gates, + colour, + gender) with the query, not
    human judgments. Evaluation queries whose text is also a training query are reported separately.
    """
    from recsys.config import Settings
    from recsys.ranking.ndcg import ndcg_per_query
    from recsys.service.taillift import TailLiftService
    from recsys.training.catalog_ranker import catalog_queries, train_catalog_ranker, weak_lists

    service = TailLiftService(Settings.from_env({"data_dir": data_dir, "demo_limit": 0}))
    service.load_models()
    table = service.engine.holder.get().table
    snapshot = service.training_snapshot()
    start = time.perf_counter()
    result, path = train_catalog_ranker(service.store, snapshot, max_queries=train_queries, seed=seed)
    print(f"trained {path.name} in {time.perf_counter() - start:.0f} s on {result.ranker.training}")
    print(result.table())
    seen = {
        q.text for q in catalog_queries(service.store, snapshot, held_out=False, max_queries=train_queries, seed=seed)
    }
    queries = catalog_queries(service.store, snapshot, held_out=True, max_queries=eval_queries, seed=seed + 1)
    data = weak_lists(snapshot, queries)
    by_text = {q.text: q for q in queries}
    groups, y, X = data.groups, data.y, data.X
    tail = tail_types(table.leaf)
    is_tail = np.array([by_text[t].attributes["article_type"] in tail for t in data.queries])
    unseen = np.array([t not in seen for t in data.queries])
    fallback = _per_list(fallback_scores, X, groups)
    scorers = {
        "recall order (RRF)": -data.recall_rank.astype(np.float64),
        "cos_text_image alone": np.nan_to_num(X[:, FEATURES.index("cos_text_image")], nan=-1.0),
        "prf_sim alone (agreement with the top 10)": np.nan_to_num(X[:, FEATURES.index("prf_sim")], nan=-1.0),
        "fallback (text + image routes, equal weights)": fallback,
        # measured, not served: it lifts CrowdFlower but not this catalog's tail types (docs/ranking.md)
        "fallback + prf_sim_qz": fallback + np.nan_to_num(X[:, FEATURES.index("prf_sim_qz")]),
        "LambdaRanker (catalog, weak labels)": result.ranker.predict(X),
    }
    print(
        f"held-out item queries: {len(groups)} lists ({int(unseen.sum())} with a text never used in training), "
        f"{len(y)} candidates; tail = {len(tail)} least frequent article types holding <= 20% of items; "
        f"tail queries {int(is_tail.sum())}"
    )
    print(f"{'scorer':48s} {'all':>14s} {'head':>14s} {'tail':>14s} {'unseen text':>14s}")
    for name, scores in scorers.items():
        per_query = ndcg_per_query(y, scores, groups)  # every list has a positive grade, so one value per list
        cells = [per_query, per_query[~is_tail], per_query[is_tail], per_query[unseen]]
        print(f"{name:48s} " + " ".join(f"{v.mean():.4f}±{v.std() / np.sqrt(max(len(v), 1)):.4f}" for v in cells))
    _catalog_latency(service, data.queries[:50])


def _catalog_latency(service, texts: list[str]) -> None:
    """build_features on real recall lists: first sight of the items (cold cache) vs later searches (warm)."""
    from recsys.ranking.features.tokens import item_text
    from recsys.search.recall import recall
    from recsys.search.types import SearchRequest

    engine = service.engine
    lists = [
        recall(engine.holder.get(), engine.encoder, SearchRequest(text=t, log=False), 200).candidates for t in texts
    ]
    item_text.cache_clear()
    timings: dict[str, list[float]] = {"cold": [], "warm": []}
    for phase in ("cold", "warm"):
        for candidates in lists:
            start = time.process_time()
            build_features(candidates, engine.priors)
            timings[phase].append((time.process_time() - start) * 1000)
    sizes = [len(c) for c in lists]
    print(
        f"build_features on {len(lists)} real recall lists (median {statistics.median(sizes):.0f} candidates): "
        f"median CPU {statistics.median(timings['cold']):.2f} ms cold, {statistics.median(timings['warm']):.2f} ms warm"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--cache-dir", type=Path, default=get_settings().data_dir / "cache")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-only", action="store_true", help="print the feature latency and stop")
    parser.add_argument(
        "--save",
        action="store_true",
        help="also grid-search on the train queries and save a "
        "new ranker version under settings.models_dir/ranker/judgments/",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        help="a TailLift data dir with models loaded once: train the "
        "catalog ranker there and measure it on queries from held-out items (weak labels)",
    )
    parser.add_argument("--train-queries", type=int, default=600)
    parser.add_argument("--eval-queries", type=int, default=400)
    args = parser.parse_args()
    if args.catalog is not None:
        catalog_benchmark(args.catalog, args.train_queries, args.eval_queries, args.seed)
        return

    import torch

    from recsys.encoders.text import TextEncoder
    from recsys.ranking.embedding_cache import CachedTextEncoder

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    data = pd.read_csv(args.data / "crowdflower" / "relevance.csv")
    wall, cpu = feature_latency(data)
    print(f"build_features, 200 candidates, all families: median {wall:.2f} ms wall, {cpu:.2f} ms CPU (50 runs)")
    if args.latency_only:
        return

    held = data["query"].map(is_holdout)
    train, test = data[~held].reset_index(drop=True), data[held].reset_index(drop=True)
    encoder = CachedTextEncoder(TextEncoder(get_settings().text_model, device="cpu"), args.cache_dir)
    start = time.perf_counter()
    ranker_scores = fit_and_score_judgments(train, test, text_encoder=encoder, seed=args.seed)
    train_s = time.perf_counter() - start

    order, _, groups = sort_by_query(test["query"].tolist())
    y = graded_labels(test["median_relevance"].to_numpy()).values[order]
    X = crowdflower_features(test, text_encoder=encoder, catalog=data)[order]
    bounds = group_offsets(groups)
    fallback = np.concatenate([fallback_scores(X[a:b]) for a, b in zip(bounds[:-1], bounds[1:])])
    rng = np.random.default_rng(args.seed)
    results = {
        "random (mean of 20 shuffles)": float(np.mean([mean_ndcg(y, rng.random(len(y)), groups) for _ in range(20)])),
        "BM25 titles": mean_ndcg(y, X[:, FEATURES.index("bm25_title")], groups),
        "MiniLM dense (query vs title)": mean_ndcg(y, X[:, FEATURES.index("cos_text_title")], groups),
        "fallback weighted sum (untrained)": mean_ndcg(y, fallback, groups),
        "LambdaRanker": mean_ndcg(y, ranker_scores[order], groups),
    }
    print(
        f"CrowdFlower held-out queries: {len(groups)} queries, {len(y)} judged pairs "
        f"(train: {train['query'].nunique()} queries); ranker grid search + refit {train_s:.0f} s"
    )
    for name, value in results.items():
        print(f"  nDCG@10  {name:36s} {value:.4f}")

    if args.save:
        X_train = crowdflower_features(train, text_encoder=encoder, catalog=data)
        y_train = graded_labels(train["median_relevance"].to_numpy()).values
        result, path = train_and_save(
            X_train,
            y_train,
            train["query"].tolist(),
            FEATURES.names,
            get_settings().models_dir,
            purpose=JUDGMENTS,
            seed=args.seed,
            training={"labels": "judgments (median_relevance)", "weak": False},
        )
        print(f"saved {path}  CV nDCG@10 {result.best.mean:.4f} ± {result.best.std:.4f}")


if __name__ == "__main__":
    main()
