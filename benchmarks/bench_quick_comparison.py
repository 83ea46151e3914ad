"""The Training tab's before/after evaluation: wall time, phases and peak RSS of one comparison (child + parent).

    PYTHONPATH=. python benchmarks/bench_quick_comparison.py --data-dir DIR [--child V --parent V] [--full]
        [--limit N] [--fit-items 2000]

Without ``--child``/``--parent`` it first trains two small versions (heads on a hash sample of ``--fit-items``
fashion fit items, 2 epochs), as a parent and its child; their feature caching is not timed. The comparison then
runs as the tab runs it (``compare_versions`` with the MiniLM already loaded, as the app's is), cold for the
evaluated items the first time (their tower features are not in the cache), and prints each phase as it starts,
the total, and the process's peak RSS before and after it.
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import replace
from pathlib import Path

from recsys.config import Settings
from recsys.encoders.text import TextEncoder, pick_device
from recsys.evaluation import encoder_comparison, fashion_data
from recsys.training.heads import HeadTrainingConfig, train_heads
from recsys.training.pairs import TrainingPair


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def small_versions(settings: Settings, fit_items: int) -> tuple[str, str]:
    data = fashion_data.suite_dir(settings.demo_dir)
    split = fashion_data.load(data, None, limit=1)
    fit = fashion_data.sample(split.fit, fit_items)
    pairs = [TrainingPair(r.id, fashion_data.pair_text(r), split.images[r.id]) for r in fit.itertuples()]
    config = HeadTrainingConfig(epochs=2, patience=0)
    parent = train_heads(pairs, settings, config=config, activate=False)
    child = train_heads(pairs, settings, config=replace(config, seed=1), activate=False)
    return child, parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--child")
    parser.add_argument("--parent")
    parser.add_argument("--full", action="store_true", help="the full suite instead of the quick sample")
    parser.add_argument("--limit", type=int, help="evaluated items (default: the size's own)")
    parser.add_argument("--fit-items", type=int, default=2000)
    args = parser.parse_args()
    settings = Settings.from_env({"data_dir": args.data_dir})
    if args.child:
        child, parent = args.child, args.parent
    else:
        child, parent = small_versions(settings, args.fit_items)
    size = encoder_comparison.FULL if args.full else encoder_comparison.QUICK
    if args.limit:
        size = replace(size, limit=args.limit)
    text = TextEncoder(settings.text_model, str(pick_device(settings.device)), settings.encode_batch_size)
    print(f"before comparison (MiniLM loaded, as in the app): peak RSS {peak_rss_mb():.0f} MB")
    started = time.perf_counter()
    last = [""]

    def progress(done: int, total: int, stage: str) -> None:
        if stage != last[0]:
            last[0] = stage
            print(f"{time.perf_counter() - started:7.1f} s  {stage}  ({done} of {total})", flush=True)

    result = encoder_comparison.compare_versions(settings.demo_dir, settings, child, parent, size, progress, text)
    seconds = time.perf_counter() - started
    print(
        f"{size.name} comparison of {child} vs {parent} on {size.limit} items: {seconds:.1f} s; "
        f"{encoder_comparison.HEADLINE_METRIC} after {result.after:.3f} before {result.before:.3f} "
        f"({result.verdict}); peak RSS {peak_rss_mb():.0f} MB; stored {sorted(result.stored.values())}"
    )


if __name__ == "__main__":
    main()
