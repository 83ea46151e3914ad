"""Recommender benchmark on the instacart data: fit / recommend wall time per backend, and the TailLift
trade-off curve (overall vs tail recall and coverage as the popularity-debias exponent alpha grows).

    python benchmarks/bench_recommend.py --data ../shared/data            # timings + curve
    python benchmarks/bench_recommend.py --data ../shared/data --no-curve

Users, histories and targets are the instacart suite's (each user's last order is the target). The curve
is computed on the evaluated targets *for description only*: the suite's methods choose their setting on
the validation split (``recsys.recommend.validation``); the same rows on validation are printed alongside.
Timings are the median of ``--repeats`` runs on this machine (2 shared CPU cores when written).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from recsys.evaluation import instacart_data
from recsys.evaluation.dataset import resolve_suite_dir
from recsys.recommend import (
    CooccurrenceRecommender,
    HypergraphRecommender,
    PopularityRecommender,
    baskets,
    tuning,
    validation,
)
from recsys.recommend.nextbasket import target_matrix
from recsys.recommend.repeat import repeat_matrix

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
BETAS = (0.0, 0.3, 1.0)


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timings(lines, histories, users, catalog, groups, repeats: int) -> None:
    interactions = baskets.user_item_counts(lines, np.unique(lines["user_id"]), catalog)
    user_items = repeat_matrix(histories, users, catalog, 0.8)
    print(f"{'backend':<24}{'fit s':>8}{'recommend s':>13}{'users':>7}{'items':>8}")
    for model in (PopularityRecommender(), CooccurrenceRecommender(), HypergraphRecommender(alpha=0.5, beta=0.3)):
        fit = _median_seconds(lambda m=model: m.fit(interactions, groups), repeats)
        rec = _median_seconds(lambda m=model: m.recommend(np.arange(users.size), user_items, n=20), repeats)
        print(f"{type(model).__name__:<24}{fit:>8.3f}{rec:>13.3f}{users.size:>7}{catalog.size:>8}")


def curve(name: str, lines, history, targets, catalog, groups, decay: float) -> None:
    users = np.array(sorted(targets))
    interactions = baskets.user_item_counts(lines, np.unique(lines["user_id"]), catalog)
    model = HypergraphRecommender().fit(interactions, groups)
    tail = ~tuning.head_mask(model.popularity)
    rows = tuning.grid(
        model,
        lambda d: repeat_matrix(history, users, catalog, d),
        target_matrix(targets, users, catalog),
        tail,
        (decay,),
        ALPHAS,
        BETAS,
    )
    print(f"\n{name}: decay {decay}, hyperedges {model.incidence.group_sizes}")
    print(f"{'beta':>6}{'alpha':>7}{'recall@20':>11}{'±se':>7}{'tail recall':>13}{'coverage':>10}")
    for r in rows:
        print(
            f"{r['beta']:>6}{r['alpha']:>7}{r['recall']:>11.4f}{r['recall_se']:>7.3f}"
            f"{r['tail_recall']:>13.4f}{r['coverage']:>10.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--decay", type=float, default=0.8, help="repeat decay for the curve (the tuned one)")
    parser.add_argument("--no-curve", action="store_true")
    parser.add_argument("--no-categories", action="store_true", help="ablation: baskets and users only")
    args = parser.parse_args()
    folder = resolve_suite_dir(args.data, "instacart", instacart_data.ORDER_FILE)
    data = instacart_data.load(folder)
    groups = {} if args.no_categories else baskets.category_incidence(folder / "products.csv", data.catalog)
    history = data.fit  # without a train dir the fit lines are exactly the users' histories
    users = np.array(sorted(data.targets))
    timings(
        data.fit,
        history,
        users,
        data.catalog,
        {"basket": baskets.basket_incidence(data.fit, data.catalog), **groups},
        args.repeats,
    )
    if args.no_curve:
        return
    split = validation.carve(data.fit, data.histories)
    for name, lines, hist, targets in (
        ("validation (2nd-to-last orders)", split.fit, split.history, split.targets),
        ("evaluated (last orders)", data.fit, history, data.targets),
    ):
        curve(
            name,
            lines,
            hist,
            targets,
            data.catalog,
            {"basket": baskets.basket_incidence(lines, data.catalog), **groups},
            args.decay,
        )


if __name__ == "__main__":
    main()
