"""Does the review-opinion family help the LightGBM ranker? Measured on the real reviews, future reviews as labels.

Per seed, every item's reviews (items with >= 4; at most 20 of each, a fixed sample) are shuffled and halved: the
first half is what the catalog knows (every feature, the opinion model, the sentiment model and the priors come from
it), the second half is the future (its mean rating, graded at 3.5 / 4.0 / 4.5, is the label). Items are dealt into
5 folds; lists of 20 items are drawn from the training folds' items and from the held-out fold's, and two rankers
with the same fixed parameters are trained on the features ``build_features`` computes from the serving reader
(``features.opinions.opinion_inputs``): without the opinion family (its columns NaN, the same trees as leaving them
out) and with it. nDCG@10 on the held-out fold's lists, and on each list's tail (<= 3 known reviews) and head
sub-lists. Design and numbers: docs/ranking.md.

    RECSYS_DATA_DIR=/tmp/h18rank/data HF_HUB_OFFLINE=1 PYTHONPATH=. python benchmarks/bench_opinion_ranker.py \
        --data ../shared/data --json /tmp/h18rank/opinion_ranker.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from recsys.config import get_settings
from recsys.opinions.aspects import load_aspects
from recsys.opinions.fitting import fit_from_reviews
from recsys.opinions.index import OpinionIndex
from recsys.opinions.mentions import ReviewText
from recsys.opinions.vectors import SentenceVectors
from recsys.ranking.features import FEATURES, CandidateList, ItemStats, Priors, build_features, fit_priors
from recsys.ranking.features.opinions import opinion_inputs
from recsys.ranking.ndcg import group_offsets, ndcg_per_query
from recsys.ranking.ranker import LambdaRanker
from recsys.ranking.sentiment import SentimentModel, item_sentiment

CUTS = (3.5, 4.0, 4.5)  # future mean rating -> grade 0..3 (fixed before the run)
PARAMS = {"num_leaves": 7, "learning_rate": 0.05, "min_data_in_leaf": 20, "feature_fraction": 0.9}
ROUNDS, LIST_SIZE, TRAIN_LISTS, TEST_LISTS, TAIL_KNOWN = 150, 20, 60, 40, 3
OPINION_COLS = FEATURES.family_slice("opinions")


@dataclass
class Known:
    """Per item (aligned with ``ids``): what the catalog knows from the known half, and the future label."""

    ids: np.ndarray
    stats: dict[str, np.ndarray]
    priors: Priors
    grade: np.ndarray
    known_count: np.ndarray


def read_reviews(data: Path, min_reviews: int, max_reviews: int) -> pd.DataFrame:
    """Items with at least ``min_reviews``; at most ``max_reviews`` of each (a sample fixed by seed 0, the same for
    every split seed: it bounds the sentences to encode on a CPU)."""
    frame = pd.read_csv(data / "reviews" / "womens_clothing_reviews.csv").dropna(subset=["Clothing ID", "Rating"])
    frame["Title"], frame["Review Text"] = frame["Title"].fillna(""), frame["Review Text"].fillna("")
    frame = frame[frame.groupby("Clothing ID")["Rating"].transform("size") >= min_reviews]
    if max_reviews:
        frame = frame.sample(frac=1.0, random_state=0).groupby("Clothing ID").head(max_reviews).sort_index()
    return frame.reset_index(drop=True)


def split_known(frame: pd.DataFrame, seed: int) -> pd.Series:
    """True for the known half (floor(n/2) of each item's reviews, chosen by a seeded shuffle)."""
    shuffled = frame.iloc[np.random.default_rng(seed).permutation(len(frame))]
    by_item = shuffled.groupby("Clothing ID")["Rating"]
    first_half = by_item.cumcount() < by_item.transform("size") // 2
    return first_half.reindex(frame.index)


def known_features(frame: pd.DataFrame, known: pd.Series, vectors: SentenceVectors, model_name: str) -> Known:
    aspects = load_aspects(None)
    k = frame[known]
    reviews = [
        ReviewText(
            n, int(r["Clothing ID"]), int(r["Rating"]), r["Title"], r["Review Text"], datetime(1970, 1, 1, tzinfo=UTC)
        )
        for n, r in zip(k.index, k.to_dict("records"))
    ]
    t0 = time.perf_counter()
    model = fit_from_reviews(reviews, k["Recommended IND"].astype(int).tolist(), aspects, vectors, model_name)
    index = OpinionIndex(model, aspects, vectors)
    index.add_reviews(reviews)
    print(f"  opinion model + index over {len(reviews)} known reviews: {time.perf_counter() - t0:.0f} s", flush=True)
    texts = (k["Title"] + ". " + k["Review Text"]).tolist()
    sentiment = SentimentModel.fit(texts, k["Rating"].tolist())
    ids = np.sort(frame["Clothing ID"].unique()).astype(np.int64)
    sent_ids, sent = item_sentiment(k["Clothing ID"].to_numpy(), sentiment.predict(texts))
    assert np.array_equal(sent_ids, ids)  # every item has >= 2 known reviews
    rating = k.groupby("Clothing ID")["Rating"].agg(["sum", "size"]).reindex(ids)
    future = frame[~known].groupby("Clothing ID")["Rating"].mean().reindex(ids).to_numpy()
    shares, mentions = opinion_inputs(index, ids)
    stats = {"rating_sum": rating["sum"].to_numpy(float), "rating_count": rating["size"].to_numpy(float)}
    stats |= {"sentiment_mean": sent, "opinion_shares": shares, "opinion_mentions": mentions}
    zeros = np.zeros(len(ids))
    priors = fit_priors(stats["rating_sum"], stats["rating_count"], zeros, zeros)
    return Known(ids, stats, priors, np.searchsorted(CUTS, future, side="right"), stats["rating_count"])


def lists_of(pool: np.ndarray, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.choice(pool, size=min(LIST_SIZE, len(pool)), replace=False) for _ in range(count)]


def features_of(known: Known, lists: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    blocks = []
    for rows in lists:
        items = ItemStats(**{name: values[rows] for name, values in known.stats.items()})
        blocks.append(build_features(CandidateList("", [""] * len(rows), [""] * len(rows), items=items), known.priors))
    rows = np.concatenate(lists)
    return np.concatenate(blocks), known.grade[rows], np.array([len(r) for r in lists])


def without_opinions(X: np.ndarray) -> np.ndarray:
    X = X.copy()
    X[:, OPINION_COLS] = np.nan
    return X


def sub_ndcg(y: np.ndarray, scores: np.ndarray, groups: np.ndarray, mask: np.ndarray) -> float:
    """Mean nDCG@10 over the lists' sub-lists selected by ``mask`` (sub-lists under 2 items skipped)."""
    values: list[float] = []
    for start, end in zip(group_offsets(groups)[:-1], group_offsets(groups)[1:]):
        keep = mask[start:end]
        if keep.sum() >= 2:
            values += list(ndcg_per_query(y[start:end][keep], scores[start:end][keep], np.array([keep.sum()])))
    return float(np.mean(values)) if values else float("nan")


def run_fold(known: Known, train: np.ndarray, test: np.ndarray, seed: int) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(seed)
    X, y, groups = features_of(known, lists_of(train, TRAIN_LISTS, rng))
    test_lists = lists_of(test, TEST_LISTS, rng)
    Xt, yt, gt = features_of(known, test_lists)
    tail = known.known_count[np.concatenate(test_lists)] <= TAIL_KNOWN
    praise = Xt[:, OPINION_COLS][:, :-1]
    scores = {
        "rating_bayes": Xt[:, FEATURES.index("rating_bayes")],
        "mean_praise": np.nanmean(praise, axis=1),
    }
    params = {**PARAMS, "seed": seed}
    without = LambdaRanker(FEATURES.names, params, ROUNDS).fit(without_opinions(X), y, groups)
    scores["ranker_without"] = without.predict(without_opinions(Xt))
    scores["ranker_with"] = LambdaRanker(FEATURES.names, params, ROUNDS).fit(X, y, groups).predict(Xt)
    return {
        name: {
            "all": float(ndcg_per_query(yt, s, gt).mean()),
            "tail": sub_ndcg(yt, s, gt, tail),
            "head": sub_ndcg(yt, s, gt, ~tail),
        }
        for name, s in scores.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--min-reviews", type=int, default=4)
    parser.add_argument("--max-reviews", type=int, default=20, help="reviews kept per item (0: all)")
    parser.add_argument("--max-items", type=int, default=0, help="debug: keep this many items (0: all)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = get_settings()
    frame = read_reviews(args.data, args.min_reviews, args.max_reviews)
    if args.max_items:
        keep = np.sort(frame["Clothing ID"].unique())[: args.max_items]
        frame = frame[frame["Clothing ID"].isin(keep)].reset_index(drop=True)
    vectors = SentenceVectors(settings.text_model, settings.data_dir / "cache", settings.device)
    print(f"{frame['Clothing ID'].nunique()} items, {len(frame)} reviews; load {os.getloadavg()[0]:.1f}", flush=True)
    runs = []
    for seed in args.seeds:
        known = known_features(frame, split_known(frame, seed), vectors, settings.text_model)
        tail_items = int((known.known_count <= TAIL_KNOWN).sum())
        print(f"  seed {seed}: grades {np.bincount(known.grade, minlength=4).tolist()}, tail items {tail_items}")
        folds = KFold(args.folds, shuffle=True, random_state=seed).split(known.ids)
        for fold, (train, test) in enumerate(folds):
            result = run_fold(known, train, test, seed * 100 + fold)
            runs.append({"seed": seed, "fold": fold, "scores": result})
            print(
                f"  seed {seed} fold {fold}: " + ", ".join(f"{m} {v['all']:.4f}" for m, v in result.items()), flush=True
            )
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for method in runs[0]["scores"]:
        summary[method] = {}
        for part in ("all", "tail", "head"):
            values = np.array([r["scores"][method][part] for r in runs])
            diff = values - np.array([r["scores"]["ranker_without"][part] for r in runs])
            summary[method][part] = {
                "mean": values.mean(),
                "std": values.std(ddof=1),
                "vs_without": diff.mean(),
                "vs_without_std": diff.std(ddof=1),
            }
    print(f"\n{'method':<16}{'part':<6}{'nDCG@10 mean ± std':>22}{'vs without ± std':>22}  ({len(runs)} runs)")
    for method, parts in summary.items():
        for part, s in parts.items():
            print(
                f"{method:<16}{part:<6}{s['mean']:>14.4f} ± {s['std']:.4f}"
                f"{s['vs_without']:>+14.4f} ± {s['vs_without_std']:.4f}"
            )
    print(f"load {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"design": __doc__, "runs": runs, "summary": summary}, indent=2, default=float))


if __name__ == "__main__":
    main()
