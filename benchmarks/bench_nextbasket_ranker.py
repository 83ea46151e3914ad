"""The learned next-basket re-ranker (``recommend/basket_ranker.py``) in the served For you, on the instacart suite.

    python benchmarks/bench_nextbasket_ranker.py --data ../shared/data            # validation split: choose
    python benchmarks/bench_nextbasket_ranker.py --data ../shared/data --held-out # the evaluated last orders, once
    python benchmarks/bench_nextbasket_ranker.py --data ../shared/data --latency 200  # For you p50 / p95

Validation: the served model (with its ranker) is fitted on the fit lines without each user's second-to-last order;
the ranker inside it trains on each user's third-to-last order (``fit_served``: a shopper's last fitted order is the
target, features from a model refitted without it); lists are scored against the second-to-last orders. Held out:
the same one order later (fit on every order but the last, ranker target the second-to-last, scored on the last).
Each setting runs the app's own list (``served_nextbasket.served_recommendations``) over the users in id order with
a fresh exposure ledger. Rows: the hand blend (no ranker) at the default knobs, then the ranker at each novelty
bonus x tail share, then (``--prices``) with the refit's exposure allocation (``recommend/allocation.py``) at each
novelty price x tail share. Selection rule, fixed before looking: the most distinct products among the settings whose
validation Recall@20 is at least ``personal_history``'s and whose tail recall is above it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

import numpy as np

from recsys.config import Settings
from recsys.evaluation import instacart_data
from recsys.evaluation.dataset import resolve_suite_dir
from recsys.recommend import lists, served_nextbasket
from recsys.recommend.exposure import ExposureLedger, exposure_stats
from recsys.recommend.served import FILL_EXPOSURE_SCALE, allocate_exposure

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark's list statistics
from bench_exposure import _lists_stats as lists_stats  # noqa: E402
from bench_exposure import split_with_history_baseline  # noqa: E402

K = 20
BONUSES = (0.0, 0.01, 0.02, 0.03, 0.05, 0.1)
TAIL_SHARES = (0.0, 0.1)


def latency(folder: Path, data: instacart_data.NextBasketData, calls: int, events: int) -> None:
    """For you's p50 / p95 per shopper with and without the ranker, on the served model over the products some fit
    order holds (``bench_served.py``'s instacart scale), the shopper's newest ``events`` lines, reasons included."""
    ordered = np.unique(data.fit["product_id"].astype(int).to_numpy())
    start = time.perf_counter()
    model = served_nextbasket.fit_served_on_lines(folder, ordered, data.fit, ranker=True)
    ranker = model.ranker
    assert ranker is not None
    print(
        f"latency: {model.n_items} products; served fit {time.perf_counter() - start:.1f} s, "
        f"ranker {ranker.fit_seconds:.1f} s"
    )
    users = np.random.default_rng(0).choice(sorted(data.histories), size=min(calls, len(data.histories)), replace=False)
    weights = [served_nextbasket.shopper_weights(model, data.histories[int(u)], events) for u in users]
    for label, fitted in (("hand blend", None), ("ranker", ranker)):
        model.ranker = fitted
        seconds = []
        for w in weights:
            begin = time.perf_counter()
            lists.for_shopper(model, w, K, 0.1)
            seconds.append(time.perf_counter() - begin)
        p50, p95 = np.percentile(np.array(seconds) * 1000, [50, 95])
        print(f"for you, {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({len(seconds)} calls)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--held-out", action="store_true", help="score the evaluated last orders (after choosing)")
    parser.add_argument("--bonuses", nargs="*", type=float, default=BONUSES, help="novelty bonuses to run")
    parser.add_argument("--tail-shares", nargs="+", type=float, default=TAIL_SHARES, help="tail shares to run")
    parser.add_argument("--floors", nargs="*", type=float, default=(), help="repeat floors to run (bonus 0)")
    parser.add_argument("--latency", type=int, default=0, help="only time For you for this many shoppers")
    parser.add_argument("--hand-fill", nargs="*", type=float, default=(), help="bonuses to run with the hand fill")
    parser.add_argument("--no-hand", action="store_true", help="skip the hand-blend reference row")
    parser.add_argument("--target-orders", type=int, default=1, help="newest orders per shopper the ranker trains on")
    parser.add_argument(
        "--prices", nargs="*", type=float, default=(), help="novelty prices of the refit's exposure allocation to run"
    )
    args = parser.parse_args()
    settings = Settings.from_env()
    folder = resolve_suite_dir(args.data, "instacart", instacart_data.ORDER_FILE)
    data = instacart_data.load(folder)
    if args.latency:
        latency(folder, data, args.latency, settings.shopper_events)
        return
    fit, histories, targets, users, head, baseline = split_with_history_baseline(data, args.held_out)
    h_recall, _, h_tail, h_shown = baseline
    start = time.perf_counter()
    model = served_nextbasket.fit_served_on_lines(
        folder, data.catalog, fit, ranker=True, target_orders=args.target_orders
    )
    fit_seconds = time.perf_counter() - start
    ranker = model.ranker
    if ranker is None:
        raise SystemExit("no ranker was fitted (too few shoppers with a target order)")
    print(
        f"served fit {fit_seconds:.1f} s, of which ranker {ranker.fit_seconds:.1f} s ({ranker.rows} training rows, "
        f"{ranker.booster.num_trees()} trees)"
    )
    gain = ranker.booster.feature_importance("gain")
    top = sorted(zip(ranker.booster.feature_name(), gain), key=lambda t: -t[1])[:8]
    print("top features by gain: " + ", ".join(f"{n} {g / gain.sum():.2f}" for n, g in top))

    def row(label: str, share: float) -> tuple[float, float, int]:
        model.exposure = ExposureLedger(model.n_items, FILL_EXPOSURE_SCALE)
        start = time.perf_counter()
        recs = served_nextbasket.served_recommendations(model, histories, users, K, share, settings.shopper_events)
        per_user = (time.perf_counter() - start) / len(users) * 1000
        recall, se, tail_recall, shown = lists_stats(recs, targets, head)
        exposure = exposure_stats([[position[p] for p in recs[u][:K]] for u in users], catalog_tail)
        ok = recall >= h_recall and tail_recall > h_tail
        print(
            f"{label:>22}{share:>6}{recall:>11.4f}{se:>7.3f}{tail_recall:>8.4f}{shown:>10}{shown / h_shown:>8.2f}"
            f"{exposure['tail_share']:>8.3f}{exposure['gini']:>8.4f}{per_user:>8.1f}{'  eligible' if ok else ''}",
            flush=True,
        )
        return recall, tail_recall, shown

    # Exposure over the catalog: tail share of impressions (tail = outside the head, as tail recall) and Gini.
    position = {int(p): i for i, p in enumerate(data.catalog)}
    catalog_tail = ~np.isin(data.catalog, np.fromiter(head, dtype=np.int64))
    print(
        f"{'setting':>22}{'tail':>6}{'recall@20':>11}{'±se':>7}{'tail r':>8}{'distinct':>10}{'x hist':>8}"
        f"{'tail im':>8}{'gini':>8}{'ms/u':>8}"
    )
    if not args.no_hand:
        model.ranker = None
        row("hand blend (served)", settings.tail_share)
        model.ranker = ranker
    for bonus in args.bonuses:
        ranker.novelty = bonus
        for share in args.tail_shares:
            row(f"ranker bonus {bonus}", share)
    if args.hand_fill:
        ranker.hand_fill = True
        for bonus in args.hand_fill:
            ranker.novelty = bonus
            for share in args.tail_shares:
                row(f"ranker+hand fill b {bonus}", share)
        ranker.hand_fill = False
    ranker.novelty = 0.0
    for floor in args.floors:
        ranker.floor = floor
        for share in args.tail_shares:
            row(f"ranker floor {floor}", share)
    ranker.floor = 0.0
    events = served_nextbasket.purchase_events(fit)
    for price in args.prices:
        start = time.perf_counter()
        model.allocation = allocate_exposure(model, events, settings.shopper_events, price, K)
        seconds = time.perf_counter() - start
        swaps = sum(len(s.added) for s in model.allocation.values())
        print(f"  price {price}: {swaps} swaps over {len(model.allocation)} shoppers, allocated in {seconds:.1f} s")
        for share in args.tail_shares:
            row(f"ranker price {price}", share)
    model.allocation = {}


if __name__ == "__main__":
    main()
