"""Time a burst of merchant edits reaching the live index: one coalesced application vs one per edit.

    PYTHONPATH=. python benchmarks/bench_live_edits.py --data-dir DIR [--edits 20] [--repeats 3]

DIR is a data dir with an imported, encoded catalog (e.g. the fashion demo). Each repeat adds ``--edits``
items while the index worker is held busy, then releases it and times how long the index takes to serve them
all (the engine applies every collected edit at once: one table read and one BM25 rebuild). The baseline, in
the same process and on the same items, applies them one edit at a time, as the engine did before (each one a
table read and a BM25 rebuild over the whole catalog). The items are deleted afterwards, so DIR keeps its
catalog (their image files stay in the store until ``python -m recsys gc-images``).
"""

from __future__ import annotations

import argparse
import io
import statistics
import threading
import time

from PIL import Image

from recsys.accounts.principal import SYSTEM
from recsys.config import Settings
from recsys.service.taillift import TailLiftService


def _photo(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 128), ((n * 37) % 256, (n * 91) % 256, 180)).save(buffer, format="JPEG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    service = TailLiftService(Settings.from_env({"data_dir": args.data_dir, "auto_train_ranker": False}))
    service.load_models()
    engine = service.engine
    items = len(engine.holder.get().table)
    coalesced, one_by_one = [], []
    for repeat in range(args.repeats):
        release = threading.Event()
        engine.submit(release.wait)
        ids = [
            service.add_item(
                SYSTEM,
                {"title": f"Benchmark lamp {repeat}-{n}", "category": "Home > Lamps"},
                [_photo(repeat * args.edits + n)],
            ).id
            for n in range(args.edits)
        ]
        started = time.perf_counter()
        release.set()
        engine.wait_idle(timeout=3600)
        coalesced.append(time.perf_counter() - started)
        started = time.perf_counter()
        for item_id in ids:  # the baseline: what each edit cost when it was applied on its own
            engine.call(engine._apply_change, "upsert", [item_id])
        one_by_one.append(time.perf_counter() - started)
        for item_id in ids:
            service.delete_item(SYSTEM, item_id)
        engine.wait_idle(timeout=3600)
    served = len(engine.holder.get().table)
    service.close()
    a, b = statistics.median(coalesced), statistics.median(one_by_one)
    print(f"catalog of {items} items (back to {served}); {args.edits} new items per burst, {args.repeats} repeats")
    print(f"one application per edit (baseline): median {b:.2f} s ({b / args.edits * 1000:.0f} ms per edit)")
    print(f"edits collected, applied at once:     median {a:.2f} s ({a / args.edits * 1000:.0f} ms per edit)")
    print(f"speed-up {b / a:.1f}x")


if __name__ == "__main__":
    main()
