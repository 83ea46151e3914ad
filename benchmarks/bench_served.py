"""Latency of the app's recommendation lists at the instacart scale: the served model (``served.fit_served``) over the
ordered products, then p50/p95 of each list for one shopper / item / cart, the re-rank and reasons included.

    python benchmarks/bench_served.py --data ../shared/data

Items: every product that was ordered, category "department > aisle" (names from departments.csv / aisles.csv);
events: the instacart suite's fit lines as purchases (shopper = user, session and order = the order). What it leaves
out of the app's path: the database read of the shopper's newest events (one indexed query) and the item views.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from recsys.evaluation import instacart_data
from recsys.evaluation.dataset import resolve_suite_dir
from recsys.recommend import lists
from recsys.recommend.served import EventRow, fit_served
from recsys.recommend.served_nextbasket import catalog_items

K = 12


def percentiles(call, args) -> str:
    seconds = []
    for arg in args:
        start = time.perf_counter()
        call(arg)
        seconds.append(time.perf_counter() - start)
    p50, p95 = np.percentile(np.array(seconds) * 1000, [50, 95])
    return f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({len(seconds)} calls)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--tail-share", type=float, default=0.3)
    args = parser.parse_args()
    folder = resolve_suite_dir(args.data, "instacart", instacart_data.ORDER_FILE)
    data = instacart_data.load(folder)
    lines = data.fit
    items = catalog_items(folder, np.unique(lines["product_id"].astype(int).to_numpy()))
    events = [
        EventRow(str(u), str(o), int(p), "purchase", str(o))
        for u, o, p in zip(lines["user_id"], lines["order_id"], lines["product_id"])
    ]
    start = time.perf_counter()
    model = fit_served(items, events)
    print(f"{model.n_items} items, {model.events} purchase events, {len(model.shoppers)} shoppers")
    print(f"fit {time.perf_counter() - start:.2f} s")
    rng = np.random.default_rng(0)
    users = rng.choice(sorted(data.histories), size=min(args.calls, len(data.histories)), replace=False)
    histories = []
    for user in users:  # the shopper's newest 50 items, as the app reads them
        products = data.histories[user]["product_id"].astype(int).tolist()[-50:]
        histories.append({i: 5.0 for i in model.index_of(products)})
    share = args.tail_share
    print("for you:         ", percentiles(lambda w: lists.for_shopper(model, w, K, share), histories))
    cold = [f"new-{n}" for n in range(args.calls)]
    print("cold start:      ", percentiles(lambda s: lists.cold_start(model, K, share, s), cold))
    picks = rng.choice(model.n_items, size=args.calls, replace=False).tolist()
    print("bought together: ", percentiles(lambda i: lists.neighbours(model, i, 8, "bought", share), picks))
    print("also viewed:     ", percentiles(lambda i: lists.neighbours(model, i, 8, "viewed", share), picks))
    carts = [list(h)[:5] for h in histories if h]
    print("complete basket: ", percentiles(lambda c: lists.basket_completion(model, c, 8, share), carts))


if __name__ == "__main__":
    main()
