"""Long-tail options of an encoder run, several seeds: fashion-suite recall@10 overall / head types / tail types.

    PYTHONPATH=. python benchmarks/bench_encoder_options.py --data-dir DIR [--seeds 0 1 2]
        [--configs plain tail hard uniform] [--limit 2000] [--json OUT]

Each (config, seed) trains heads with ``train_heads`` on the fashion fit items (the pairs ``fashion.run`` would
train on; evaluated items excluded) with the run options of ``EncoderRunOptions``, then evaluates the version
with ``fashion.run(model=VERSION)``. Tower features are cached under ``DIR/features``: the first run pays for them.
Prints one JSON line per run, then mean ± std per config (std over seeds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, replace

from recsys.config import Settings
from recsys.evaluation import fashion, fashion_data
from recsys.training.encoder_runs import inverse_frequency_weights, type_log_q
from recsys.training.heads import train_heads
from recsys.training.pairs import TrainingPair
from recsys.training.run_options import EncoderRunOptions

CONFIGS = {
    "plain": EncoderRunOptions(),
    "tail": EncoderRunOptions(tail_weight=0.5),
    "tail+logq": EncoderRunOptions(tail_weight=0.5, log_q=True),
    "hard": EncoderRunOptions(hard_negatives=2),
    "uniform": EncoderRunOptions(uniform_negatives=1024),
    "tail+hard+uniform": EncoderRunOptions(tail_weight=0.5, hard_negatives=2, uniform_negatives=1024),
}
METHODS = ("title->image/taillift_joint", "title->item/taillift_fused", "category->image/taillift_joint")
SEGMENTS = ("overall", "head types", "tail types")


def run_one(settings: Settings, data, split, options: EncoderRunOptions, limit: int) -> dict:
    pairs = [TrainingPair(r.id, fashion_data.pair_text(r), split.images[r.id]) for r in split.fit.itertuples()]
    types = dict(zip(split.fit["id"], split.fit["articleType"]))
    group = lambda kept: [types[p.external_id] for p in kept]
    evaluated = frozenset(split.evaluated["id"])
    started = time.perf_counter()
    version = train_heads(
        pairs,
        settings,
        exclude=evaluated.__contains__,
        config=options.head_config(),
        activate=False,
        pair_weights=(lambda k: inverse_frequency_weights(group(k), options.tail_weight))
        if options.tail_weight
        else None,
        pair_log_q=lambda k: type_log_q(group(k)),
        manifest_extra={"run": {"parent": None, "options": asdict(options), "source": "fashion fit"}},
    )
    train_s = time.perf_counter() - started
    report = fashion.run(data, settings=settings, model=version, limit=limit)
    out = {"version": version, "train_s": round(train_s, 1), "methods": {}}
    for method in METHODS:
        result = report["methods"][method]
        values = [result["metrics"]["recall@10"]] + [
            result["segments"][s]["metrics"]["recall@10"] for s in SEGMENTS[1:]
        ]
        out["methods"][method] = dict(zip(SEGMENTS, values))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="TailLift data dir (feature cache, model versions)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--limit", type=int, default=2000, help="evaluated held-out fashion items")
    parser.add_argument("--json", help="write every run and the summary here")
    args = parser.parse_args()
    settings = Settings.from_env({"data_dir": args.data_dir})
    data = fashion_data.suite_dir(settings.demo_dir)
    split = fashion_data.load(data, None, args.limit)
    runs = []
    for seed in args.seeds:  # every config per seed first: a cut-short run still compares them all
        for name in args.configs:
            out = {
                "config": name,
                "seed": seed,
                **run_one(settings, data, split, replace(CONFIGS[name], seed=seed), args.limit),
            }
            runs.append(out)
            print(json.dumps(out), flush=True)
    print(
        f"\nrecall@10 mean ± std over seeds {args.seeds} (overall / head types / tail types); "
        f"{args.limit} held-out items"
    )
    summary = {}
    for name in args.configs:
        mine = [r for r in runs if r["config"] == name]
        summary[name] = {"train_s": statistics.median(r["train_s"] for r in mine)}
        cells = []
        for method in METHODS:
            stats = []
            for segment in SEGMENTS:
                values = [r["methods"][method][segment] for r in mine]
                sd = statistics.stdev(values) if len(values) > 1 else 0.0
                summary[name][f"{method} {segment}"] = (statistics.mean(values), sd)
                stats.append(f"{statistics.mean(values):.3f}±{sd:.3f}")
            cells.append(" / ".join(stats))
        print(
            f"{name:>18} | train {summary[name]['train_s']:.0f}s | "
            + " | ".join(f"{m.split('/')[0]} {c}" for m, c in zip(METHODS, cells))
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"runs": runs, "summary": summary, "seeds": args.seeds, "limit": args.limit}, handle, indent=1)


if __name__ == "__main__":
    main()
