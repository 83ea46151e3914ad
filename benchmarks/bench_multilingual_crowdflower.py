"""CrowdFlower: does a second text model (USE or e5) as ranker columns close part of the gap to 0.87 nDCG@10?

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 RECSYS_DATA_DIR=/tmp/h16/data PYTHONPATH=. nice -n 10 \
        python benchmarks/bench_multilingual_crowdflower.py --data ../shared/data --folds 5

Outer cross-validation by query over all 178 queries (recsys/evaluation/crowdflower_second_text.py): the LightGBM
ranker with the registry's columns, and with the second model's cosines added, fitted in the same folds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from recsys.config import Settings
from recsys.encoders.multilingual import MULTILINGUAL_MODELS, USE_MULTILINGUAL, MultilingualTextEncoder
from recsys.evaluation import crowdflower_second_text
from recsys.ranking.embedding_cache import CachedTextEncoder


class _Side:
    """One side (queries or items) of the multilingual encoder as an ``encode(texts)`` for CachedTextEncoder."""

    def __init__(self, encode) -> None:
        self.encode = encode


class CachedMultilingual:
    """The second model with a disk cache per side (e5 prefixes queries and passages differently)."""

    def __init__(self, encoder: MultilingualTextEncoder, cache_dir: Path) -> None:
        self.model_name = encoder.model_name
        self._queries = CachedTextEncoder(_Side(encoder.encode_queries), cache_dir, f"{self.model_name}#queries")
        self._items = CachedTextEncoder(_Side(encoder.encode_items), cache_dir, f"{self.model_name}#items")

    def encode_queries(self, texts: list[str]):
        return self._queries.encode(texts)

    def encode_items(self, texts: list[str]):
        return self._items.encode(texts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default=USE_MULTILINGUAL, choices=MULTILINGUAL_MODELS)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--only-folds", type=int, nargs="+", default=None, help="1-based folds to run (the same split as a full run)"
    )
    args = parser.parse_args()
    started, load = time.time(), os.getloadavg()[0]
    settings = Settings.from_env()
    second = CachedMultilingual(MultilingualTextEncoder(args.model, threads=2), settings.data_dir / "cache")
    report = crowdflower_second_text.run(
        args.data,
        second,
        settings,
        args.seed,
        args.folds,
        progress=lambda done, total, stage: print(
            f"{stage} {done}/{total} {time.time() - started:.0f}s", file=sys.stderr
        ),  # noqa: E501
        only_folds=None if args.only_folds is None else [k - 1 for k in args.only_folds],
    )
    report["seconds"] = time.time() - started
    report["load_average_start_end"] = [load, os.getloadavg()[0]]
    print(crowdflower_second_text.format_report(report))
    print(f"{report['seconds']:.0f}s, load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
