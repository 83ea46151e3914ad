"""Time a model switch (re-encode the catalog, rebuild the index, swap) with and without the feature caches.

    PYTHONPATH=. python benchmarks/bench_switch.py --data-dir DIR

DIR is a data dir with an imported catalog (e.g. the fashion demo). Trains three heads-only versions on the
catalog (seeds 1-3; tower features come from the cache), then, in this one process, switches to the first with
the caches off (every tower runs: the baseline), to the second with them on (as right after training: images
and clip texts cached), and to the third (MiniLM bert/review texts now cached too); prints the seconds.
Rolls back to the version that served before, so DIR is left serving what it served.
"""

from __future__ import annotations

import argparse
import time

from recsys.accounts.principal import SYSTEM
from recsys.config import Settings
from recsys.search import engine as engine_module
from recsys.service.taillift import TailLiftService
from recsys.training.encoder_runs import train_encoder
from recsys.training.run_options import EncoderRunOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    service = TailLiftService(Settings.from_env({"data_dir": args.data_dir, "auto_train_ranker": False}))
    service.load_models()
    serving = service.serving_encoder_version()
    items = service.stats().get("items")
    versions = [
        train_encoder(service.store, EncoderRunOptions(seed=seed), parent=serving, text=service.engine.encoder.text)
        for seed in (1, 2, 3)
    ]
    results = {}
    cached = engine_module.BULK_CACHE_MIN_ITEMS
    for label, version, cache_min in (
        ("baseline: towers run", versions[0], 10**12),
        ("caches, first switch", versions[1], cached),
        ("caches, next switch", versions[2], cached),
    ):
        engine_module.BULK_CACHE_MIN_ITEMS = cache_min
        started = time.perf_counter()
        service.switch_encoder(SYSTEM, version)
        results[label] = time.perf_counter() - started
        print(f"{label:>22}: switch to {version} in {results[label]:.1f} s", flush=True)
    base, first, later = results.values()
    print(
        f"catalog items: {items}; speed-up {base / first:.1f}x (first switch after training: image and clip-text "
        f"features cached by training), {base / later:.1f}x (later: MiniLM texts cached too)"
    )
    if serving:
        service.switch_encoder(SYSTEM, serving)
    service.close()


if __name__ == "__main__":
    main()
