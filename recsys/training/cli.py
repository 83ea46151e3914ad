"""``python -m recsys train ranker [--data DIR] [--json OUT]``: train and save a LightGBM ranker version.

``train`` holds one sub-subcommand per model kind; ``add_train_parser`` returns its sub-parsers so another
kind (``train encoder``) registers beside ``ranker`` with ``add_<kind>_parser(train_subparsers)``.

* ``--data DIR``: graded judgments in the CrowdFlower format (DIR/relevance.csv, DIR/crowdflower/relevance.csv
  or the CSV itself). Queries that ``recsys.splits.is_holdout`` selects are left out for evaluation. The
  model is saved for purpose "judgments" and is never served for the catalog.
* no ``--data``: the catalog's own ranker, from click logs when there are enough, else weak attribute-
  agreement labels on queries generated from non-held-out items; the next start of the service serves it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..config import get_settings


def add_train_parser(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    parser = subparsers.add_parser("train", help="train a model and save it as a new version")
    kinds = parser.add_subparsers(dest="train_command", required=True)
    add_ranker_parser(kinds)
    return kinds


def add_ranker_parser(kinds: argparse._SubParsersAction) -> None:
    p = kinds.add_parser("ranker", help="LightGBM LambdaRank: CV grid search, refit, versioned save")
    p.add_argument("--data", type=Path, help="CrowdFlower-format judgments; without it, train on the catalog")
    p.add_argument("--max-queries", type=int, default=None, help="catalog: generated queries (default 600)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the CV report as JSON to OUT")
    p.set_defaults(func=cmd_train_ranker)


def _judgment_file(data: Path) -> Path:
    for candidate in (data, data / "relevance.csv", data / "crowdflower" / "relevance.csv"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no CrowdFlower relevance.csv at {data}")


def _train_on_judgments(data: Path, seed: int):
    import pandas as pd

    from ..encoders.text import TextEncoder
    from ..ranking.cv import train_and_save
    from ..ranking.embedding_cache import CachedTextEncoder
    from ..ranking.features import FEATURES
    from ..ranking.judgments import crowdflower_features
    from ..ranking.labels import graded_labels
    from ..ranking.ranker import JUDGMENTS
    from ..splits import is_holdout

    settings = get_settings()
    frame = pd.read_csv(_judgment_file(data))
    train = frame[~frame["query"].map(is_holdout)].reset_index(drop=True)
    encoder = CachedTextEncoder(TextEncoder(settings.text_model, device="cpu"), settings.data_dir / "cache")
    X = crowdflower_features(train, text_encoder=encoder, catalog=frame)
    y = graded_labels(train["median_relevance"].to_numpy()).values
    training = {"labels": "judgments (median_relevance)", "weak": False, "queries": int(train["query"].nunique()),
                "rows": int(len(train)), "source": str(_judgment_file(data)), "seed": seed}
    return train_and_save(X, y, train["query"].tolist(), FEATURES.names, settings.models_dir, purpose=JUDGMENTS,
                          training=training, seed=seed)


def _train_on_catalog(max_queries: int | None, seed: int):
    from ..service import TailLiftService
    from .catalog_ranker import DEFAULT_MAX_QUERIES, train_catalog_ranker

    service = TailLiftService(get_settings())
    service.load_models()

    def progress(done: int, total: int, stage: str) -> None:
        if done == total or done % 50 == 0:
            print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)

    return train_catalog_ranker(service, max_queries=max_queries or DEFAULT_MAX_QUERIES, seed=seed,
                                progress=progress)


def cmd_train_ranker(args: argparse.Namespace) -> int:
    if args.data is not None:
        result, path = _train_on_judgments(args.data, args.seed)
    else:
        result, path = _train_on_catalog(args.max_queries, args.seed)
    training = result.ranker.training
    print(f"labels: {training.get('labels')}  queries: {training.get('queries')}  rows: {training.get('rows')}")
    print(f"CV nDCG@10 (GroupKFold by query, mean ± std over folds), {len(result.results)} configurations:")
    print(result.table())
    print(f"chosen: {result.best.mean:.4f} ± {result.best.std:.4f} {result.best.params}")
    print(f"saved {path}")
    if args.json is not None:
        report: dict[str, Any] = {"path": str(path), "purpose": result.ranker.purpose, "training": training,
                                  "cv": result.ranker.cv_scores}
        args.json.write_text(json.dumps(report, indent=2, default=float))
    return 0
