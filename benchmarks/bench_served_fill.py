"""The served For you's exposure-aware fill (``lists._exposure_fill``, ``ExposureLedger``) on the instacart suite.

    python benchmarks/bench_served_fill.py --data ../shared/data            # validation split: choose the scale
    python benchmarks/bench_served_fill.py --data ../shared/data --held-out # the evaluated last orders, once

Each setting runs the app's own list (``served_nextbasket.served_recommendations``: the served model, the newest
``RECSYS_SHOPPER_EVENTS`` lines, ``lists.for_shopper`` at the default tail share) over the users in id order with a
fresh ledger, so each user's fill sees what the users before them were shown, as shoppers would in a deployment.
Scale ``inf`` is no discount (the fill is the plain score order). Beside ``personal_history`` on the same users.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from recsys.config import Settings
from recsys.evaluation import instacart_data
from recsys.evaluation.dataset import resolve_suite_dir
from recsys.recommend import served_nextbasket
from recsys.recommend.exposure import ExposureLedger

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark's list statistics
from bench_exposure import _lists_stats as lists_stats  # noqa: E402
from bench_exposure import split_with_history_baseline  # noqa: E402

K = 20
SCALES = (math.inf, 10.0, 1.0, 0.1)
BETAS = (0.2, 0.3, 0.5)  # the personal blend's propagation weight (served.PERSONAL_BETA is the default)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--held-out", action="store_true", help="score the evaluated last orders (after choosing)")
    args = parser.parse_args()
    settings = Settings.from_env()
    folder = resolve_suite_dir(args.data, "instacart", instacart_data.ORDER_FILE)
    data = instacart_data.load(folder)
    fit, histories, targets, users, head, baseline = split_with_history_baseline(data, args.held_out)
    h_recall, _, h_tail, h_shown = baseline
    model = served_nextbasket.fit_served_on_lines(folder, data.catalog, fit)
    print(f"{'beta':>6}{'scale':>7}{'recall@20':>11}{'±se':>7}{'tail':>8}{'distinct':>10}{'x hist':>8}")
    for beta in BETAS:
        model.personal.beta = beta
        for scale in SCALES:
            model.exposure = ExposureLedger(model.n_items, scale)
            recs = served_nextbasket.served_recommendations(
                model, histories, users, K, settings.tail_share, settings.shopper_events
            )
            recall, se, tail_recall, shown = lists_stats(recs, targets, head)
            print(
                f"{beta:>6}{scale:>7}{recall:>11.4f}{se:>7.3f}{tail_recall:>8.4f}{shown:>10}{shown / h_shown:>8.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
