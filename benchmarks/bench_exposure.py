"""Exposure trade-off on the instacart data: what the tail-share knob (``RECSYS_TAIL_SHARE``) costs in relevance.

    python benchmarks/bench_exposure.py --data ../shared/data

The instacart suite's users, histories and targets (each user's last order). The ranking is the suite's
``taillift_hypergraph`` setting (decay 0.8, alpha 0, beta 0.03); each user's top ``POOL`` list is re-ranked by
``exposure.calibrated_rerank`` at each tail share and cut to 20. Tail = outside the most bought 20% of the products
that were bought (``tuning.head_mask``). Reported per setting: Recall@20, tail-item recall@20, the tail's share of
all impressions, catalog coverage and exposure Gini of the lists, and per-shopper latency (one user's scoring +
re-rank, the app's path) p50/p95 over ``--latency-users`` users.

    python benchmarks/bench_exposure.py --data ../shared/data --served

``--served`` instead sweeps the app's own For you list (``served_nextbasket``: the served model, ``lists.for_shopper``
and the re-rank) over personal alpha / beta, the shopper window and the tail share, on the **validation split**
(each user's second-to-last order as the target, fit lines without those orders), beside ``personal_history`` on
the same users: the table the served default was chosen from (docs/recommend.md). The evaluated orders are not read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from recsys.evaluation import instacart_data, next_basket
from recsys.evaluation.dataset import resolve_suite_dir
from recsys.recommend import HypergraphRecommender, baskets, served_nextbasket, tuning, validation
from recsys.recommend.exposure import calibrated_rerank, exposure_stats
from recsys.recommend.nextbasket import target_matrix
from recsys.recommend.repeat import repeat_matrix

SETTINGS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7)
# (personal alpha, personal beta, shopper events, tail share) for --served; the first is the app's old default
SERVED_GRID = (
    (0.5, 1.0, 50, 0.3),
    (0.5, 0.2, 50, 0.0),
    (1.0, 0.2, 50, 0.0),
    (1.0, 0.2, 100, 0.0),
    (0.5, 0.2, 200, 0.0),
    (1.0, 0.2, 200, 0.0),
    (1.0, 0.2, 200, 0.1),
    (1.0, 0.2, 200, 0.2),
    (1.0, 0.2, 200, 0.3),
    (1.0, 0.3, 200, 0.0),
    (1.0, 0.3, 200, 0.2),
    (1.0, 0.5, 200, 0.0),
)
POOL = 100
K = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--latency-users", type=int, default=200)
    parser.add_argument("--served", action="store_true", help="sweep the served For you list on the validation split")
    args = parser.parse_args()
    folder = resolve_suite_dir(args.data, "instacart", instacart_data.ORDER_FILE)
    data = instacart_data.load(folder)
    if args.served:
        served_sweep(folder, data)
        return
    catalog = data.catalog
    groups = {"basket": baskets.basket_incidence(data.fit, catalog)}
    groups.update(baskets.category_incidence(folder / "products.csv", catalog))
    interactions = baskets.user_item_counts(data.fit, np.unique(data.fit["user_id"]), catalog)
    model = HypergraphRecommender(alpha=0.0, beta=0.03).fit(interactions, groups)
    users = np.array(sorted(data.targets))
    user_items = repeat_matrix(data.fit, users, catalog, 0.8)
    pools, _ = model.recommend(np.arange(users.size), user_items, n=POOL)
    truth = target_matrix(data.targets, users, catalog).toarray() > 0
    tail = ~tuning.head_mask(model.popularity)
    print(f"{users.size} users, {catalog.size} products, {int((~tail).sum())} head products; pool {POOL}, k {K}")
    header = f"{'tail share':>10}{'recall@20':>11}{'±se':>7}{'tail recall':>13}{'tail impr.':>12}"
    print(header + f"{'coverage':>10}{'gini':>8}")
    for share in SETTINGS:
        top = np.array([calibrated_rerank(row, tail, K, share) for row in pools])
        recall, tail_recall = tuning.recall_parts(top, truth, tail)
        stats = exposure_stats(top.tolist(), tail)
        valid = recall[~np.isnan(recall)]
        se = valid.std(ddof=1) / np.sqrt(valid.size)
        print(
            f"{share:>10}{np.nanmean(recall):>11.4f}{se:>7.3f}{np.nanmean(tail_recall):>13.4f}"
            f"{stats['tail_share']:>12.3f}{stats['coverage']:>10.4f}{stats['gini']:>8.4f}"
        )
    seconds = []
    for row in range(min(args.latency_users, users.size)):
        start = time.perf_counter()
        ids, _ = model.recommend([row], user_items, n=POOL)
        calibrated_rerank(ids[0], tail, K, 0.3)
        seconds.append(time.perf_counter() - start)
    p50, p95 = np.percentile(np.array(seconds) * 1000, [50, 95])
    print(f"one shopper (score {catalog.size} products + re-rank): p50 {p50:.1f} ms, p95 {p95:.1f} ms")


def split_with_history_baseline(data, held_out: bool) -> tuple:
    """(fit, histories, targets, users, head, personal_history's (recall, se, tail recall, distinct)) for the
    validation split or the held-out orders, printing personal_history's line: what the served-list benchmarks
    compare against."""
    if held_out:
        fit, histories, targets = data.fit, data.histories, data.targets
    else:
        split = validation.carve(data.fit, data.histories)
        fit, targets = split.fit, split.targets
        histories = {int(u): g for u, g in split.history.groupby("user_id")}
    users = sorted(targets)
    head = instacart_data.head_items(fit, 0.2)
    history = next_basket.recommend_history(users, histories, next_basket.popularity_ranking(fit, data.catalog), K)
    h_recall, h_se, h_tail, h_shown = _lists_stats(history, targets, head)
    print(f"{'held-out' if held_out else 'validation'}: {len(users)} users, {data.catalog.size} products")
    print(f"personal_history: recall {h_recall:.4f} ±{h_se:.3f}, tail recall {h_tail:.4f}, {h_shown} distinct")
    return fit, histories, targets, users, head, (h_recall, h_se, h_tail, h_shown)


def _lists_stats(recs: dict, targets: dict, head: frozenset) -> tuple[float, float, float, int]:
    """Recall@K (mean, se), tail recall@K (tail = outside ``head``) and distinct products shown."""
    recall, tail_recall, shown = [], [], set()
    for user, truth in targets.items():
        top = set(recs[user][:K])
        shown |= top
        recall.append(len(top & truth) / len(truth))
        tail = {p for p in truth if p not in head}
        if tail:
            tail_recall.append(len(top & tail) / len(tail))
    values = np.array(recall)
    return (
        float(values.mean()),
        float(values.std(ddof=1) / np.sqrt(values.size)),
        float(np.mean(tail_recall)),
        len(shown),
    )


def served_sweep(folder: Path, data: instacart_data.NextBasketData) -> None:
    split = validation.carve(data.fit, data.histories)
    histories = {int(u): g for u, g in split.history.groupby("user_id")}
    users = sorted(split.targets)
    head = instacart_data.head_items(split.fit, 0.2)
    popular = next_basket.popularity_ranking(split.fit, data.catalog)
    history = next_basket.recommend_history(users, histories, popular, K)
    h_recall, h_se, h_tail, h_shown = _lists_stats(history, split.targets, head)
    print(f"validation: {len(users)} users, {data.catalog.size} products, bound {len(users) * K} distinct")
    print(f"personal_history: recall {h_recall:.4f} ±{h_se:.3f}, tail recall {h_tail:.4f}, {h_shown} distinct")
    model = served_nextbasket.fit_served_on_lines(folder, data.catalog, split.fit)
    print(
        f"{'alpha':>6}{'beta':>6}{'events':>8}{'share':>7}{'recall@20':>11}{'±se':>7}{'tail':>8}"
        f"{'distinct':>10}{'x hist':>8}"
    )
    for alpha, beta, events, share in SERVED_GRID:
        model.personal.alpha, model.personal.beta = alpha, beta
        recs = served_nextbasket.served_recommendations(model, histories, users, K, share, events)
        recall, se, tail_recall, shown = _lists_stats(recs, split.targets, head)
        print(
            f"{alpha:>6}{beta:>6}{events:>8}{share:>7}{recall:>11.4f}{se:>7.3f}{tail_recall:>8.4f}{shown:>10}"
            f"{shown / h_shown:>8.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
