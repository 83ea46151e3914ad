"""Latency of the app's recommendation lists at the instacart scale: the served model (``served.fit_served``) over the
ordered products, then p50/p95 of each list for one shopper / item / cart, the re-rank and reasons included.

    python benchmarks/bench_served.py --data ../shared/data

The served configuration comes from the settings (``RECSYS_TAIL_SHARE``, ``RECSYS_SHOPPER_EVENTS``,
``RECSYS_RECOMMEND_RANKER``, ``RECSYS_NOVELTY_PRICE``), as the app reads them.

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

from recsys.config import Settings
from recsys.evaluation import instacart_data
from recsys.evaluation.dataset import resolve_suite_dir
from recsys.recommend import lists
from recsys.recommend.served import EventRow, fit_served
from recsys.recommend.served_nextbasket import catalog_items, shopper_weights

K = 20  # the For you list's length in the instacart suite


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
    args = parser.parse_args()
    settings = Settings.from_env()
    folder = resolve_suite_dir(args.data, "instacart", instacart_data.ORDER_FILE)
    data = instacart_data.load(folder)
    lines = data.fit
    items = catalog_items(folder, np.unique(lines["product_id"].astype(int).to_numpy()))
    events = [
        EventRow(str(u), str(o), int(p), "purchase", str(o))
        for u, o, p in zip(lines["user_id"], lines["order_id"], lines["product_id"])
    ]
    start = time.perf_counter()
    model = fit_served(
        items,
        events,
        ranker=settings.recommend_ranker,
        shopper_events=settings.shopper_events,
        novelty_price=settings.novelty_price,
    )
    print(f"{model.n_items} items, {model.events} purchase events, {len(model.shoppers)} shoppers")
    swaps = sum(len(s.added) for s in model.allocation.values())
    ranker = "no ranker" if model.ranker is None else f"ranker {model.ranker.fit_seconds:.2f} s"
    fitted = time.perf_counter() - start
    print(f"fit {fitted:.2f} s ({ranker}; {swaps} allocation swaps over {len(model.allocation)} shoppers)")
    rng = np.random.default_rng(0)
    users = rng.choice(sorted(data.histories), size=min(args.calls, len(data.histories)), replace=False)
    # The shopper's newest settings.shopper_events lines, as the app reads them, and their allocation swap.
    histories = [(shopper_weights(model, data.histories[u], settings.shopper_events), str(u)) for u in users]
    share = settings.tail_share

    def for_you(history, allocated: bool = True):
        weights, shopper = history
        swap = model.swap_for([shopper]) if allocated else None
        return lists.for_shopper(model, weights, K, share, shopper, swap)

    print("for you:         ", percentiles(for_you, histories))
    print("for you, no swap:", percentiles(lambda h: for_you(h, False), histories))
    cold = [f"new-{n}" for n in range(args.calls)]
    print("cold start:      ", percentiles(lambda s: lists.cold_start(model, K, share, s), cold))
    picks = rng.choice(model.n_items, size=args.calls, replace=False).tolist()
    print("bought together: ", percentiles(lambda i: lists.neighbours(model, i, 8, "bought", share), picks))
    print("also viewed:     ", percentiles(lambda i: lists.neighbours(model, i, 8, "viewed", share), picks))
    carts = [list(w)[-5:] for w, _ in histories if w]
    print("complete basket: ", percentiles(lambda c: lists.basket_completion(model, c, 8, share), carts))


if __name__ == "__main__":
    main()
