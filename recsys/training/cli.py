"""``python -m recsys train ranker|encoder ...`` and ``python -m recsys models list|activate VERSION``.

``train`` holds one sub-subcommand per model kind; ``add_train_parser`` returns its sub-parsers so another
kind (``train encoder``) registers beside ``ranker`` with ``add_<kind>_parser(train_subparsers)``.

* ``--data DIR``: graded judgments in the CrowdFlower format (DIR/relevance.csv, DIR/crowdflower/relevance.csv
  or the CSV itself). Queries that ``recsys.splits.is_holdout`` selects are left out for evaluation. The
  model is saved for purpose "judgments" and is never served for the catalog.
* no ``--data``: the catalog's own ranker, from click logs when there are enough, else weak attribute-
  agreement labels on queries generated from non-held-out items; the next start of the service serves it.

``train encoder [--epochs N --batch-size B --lr X --logq --tail-weight A --activate] [--json OUT]`` retrains the
projection heads on the catalog's pairs (held-out items excluded) and saves a version recording its parent and
options; ``--activate`` makes it ACTIVE (served from the next start; the Training tab switches a running app).
``models list`` shows encoder versions; ``models activate VERSION`` points ACTIVE at one (the rollback).
Wiring (recsys/cli.py): ``add_encoder_parser(add_train_parser(sub))`` and ``add_models_parser(sub)``.
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


def add_encoder_parser(kinds: argparse._SubParsersAction) -> None:
    # Literal defaults (a test keeps them equal to EncoderRunOptions): importing torch here would slow every command.
    p = kinds.add_parser("encoder", help="retrain the encoder's projection heads on the catalog (new version)")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--logq", action="store_true", help="logQ correction of in-batch negatives (see --logq-by)")
    p.add_argument("--logq-by", choices=("type", "item"), default="type",
                   help="sampling frequency of the item's type (default; catalog pairs hold each item once) or of "
                        "the item itself (click pairs repeat popular items)")
    p.add_argument("--tail-weight", type=float, default=0.0, metavar="A",
                   help="loss weight per pair ∝ (1 / count of its type) ** A; 0 = off (default), 1 = full")
    p.add_argument("--temperature", type=float, default=0.07, help="initial softmax temperature")
    p.add_argument("--fixed-temperature", action="store_true", help="keep the temperature fixed (default: learned)")
    p.add_argument("--hard-negatives", type=int, default=0, metavar="K",
                   help="per pair, mined from the index (serving version first, then the model in training)")
    p.add_argument("--uniform-negatives", type=int, default=0, metavar="M",
                   help="per batch, drawn uniformly from all catalog items for a side loss")
    p.add_argument("--uniform-weight", type=float, default=0.5, help="weight of the uniform-negative side loss")
    p.add_argument("--patience", type=int, default=2,
                   help="early stopping: epochs without better validation recall@10; 0 = off")
    p.add_argument("--source", action="append", choices=("catalog", "clicks", "judgments"), dest="sources",
                   help="training pairs (repeatable; default catalog): catalog text-image pairs, logged "
                        "query-click pairs, graded judgments (--judgments)")
    p.add_argument("--judgments", type=Path, metavar="CSV", help="judgments file with columns query,item_id,relevance")
    p.add_argument("--min-relevance", type=float, default=3.0, help="judgments at or above this grade are positives")
    p.add_argument("--unfreeze-image-blocks", type=int, default=0, metavar="N",
                   help="fine-tune the last N EfficientNet-Lite0 blocks end to end (meant for CUDA; slow on CPU)")
    p.add_argument("--unfreeze-text-layers", type=int, default=0, metavar="N",
                   help="fine-tune the last N MiniLM layers end to end (meant for CUDA; slow on CPU)")
    p.add_argument("--tower-lr", type=float, default=3e-5, help="learning rate of unfrozen tower layers")
    p.add_argument("--hidden", type=int, default=1024, help="MLP width of the heads; 0 = linear")
    p.add_argument("--embed-dim", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--activate", action="store_true", help="make the new version ACTIVE")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write version, parent, options, metrics to OUT")
    p.set_defaults(func=cmd_train_encoder)


def add_models_parser(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    parser = subparsers.add_parser("models", help="list encoder versions or activate one (rollback)")
    actions = parser.add_subparsers(dest="models_command", required=True)
    p = actions.add_parser("list", help="encoder versions, newest first; * = ACTIVE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_list)
    p = actions.add_parser("activate", help="point ACTIVE at VERSION (served from the next start)")
    p.add_argument("version")
    p.set_defaults(func=cmd_models_activate)
    return actions


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
                "rows": len(train), "source": str(_judgment_file(data)), "seed": seed}
    return train_and_save(X, y, train["query"].tolist(), FEATURES.names, settings.models_dir, purpose=JUDGMENTS,
                          training=training, seed=seed)


def _train_on_catalog(max_queries: int | None, seed: int):
    from recsys.service.taillift import TailLiftService
    from .catalog_ranker import DEFAULT_MAX_QUERIES, train_catalog_ranker

    service = TailLiftService(get_settings())
    service.load_models()

    def progress(done: int, total: int, stage: str) -> None:
        if done == total or done % 50 == 0:
            print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)

    return train_catalog_ranker(service.store, service.engine.snapshot(), max_queries=max_queries or DEFAULT_MAX_QUERIES, seed=seed,
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


def run_options(args: argparse.Namespace):
    """``EncoderRunOptions`` from ``train encoder`` arguments (ValueError with the reasons when invalid)."""
    from .encoder_runs import EncoderRunOptions

    return EncoderRunOptions(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, temperature=args.temperature,
        learn_temperature=not args.fixed_temperature, log_q=args.logq, log_q_by=args.logq_by, tail_weight=args.tail_weight,
        hard_negatives=args.hard_negatives, uniform_negatives=args.uniform_negatives,
        uniform_weight=args.uniform_weight, patience=args.patience,
        sources=tuple(dict.fromkeys(args.sources or ["catalog"])),
        judgments_path=str(args.judgments) if args.judgments else None, min_relevance=args.min_relevance,
        unfreeze_image_blocks=args.unfreeze_image_blocks, unfreeze_text_layers=args.unfreeze_text_layers,
        tower_lr=args.tower_lr, hidden=args.hidden, embed_dim=args.embed_dim, seed=args.seed)


def cmd_train_encoder(args: argparse.Namespace) -> int:
    from recsys.service.catalog import CatalogService
    from recsys import registry
    from .encoder_runs import RunProgress, train_encoder

    try:
        options = run_options(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = get_settings()
    catalog = CatalogService(settings)  # no index needed: training reads pairs and cached tower features
    parent = registry.active_version(settings)

    printed = [0]  # epochs already printed (tower runs also report every step)

    def progress(p: RunProgress) -> None:
        if p.losses and len(p.losses) > printed[0] and p.stage in ("training heads", "training towers"):
            printed[0] = len(p.losses)
            print(f"  epoch {len(p.losses)}/{options.epochs}: loss {p.losses[-1]:.4f}  "
                  f"{p.examples_per_s or 0:.0f} pairs/s  ETA {p.eta_s or 0:.0f}s", file=sys.stderr, flush=True)

    try:
        version = train_encoder(catalog.store, options, parent=parent, on_progress=progress)
    except ValueError as exc:  # no pairs, a malformed judgments file: say so, save nothing
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.activate:
        registry.activate(settings, version)
    metrics = registry.read_config(registry.version_dir(settings, version))["metrics"]
    print(f"saved {version} (parent {parent or '-'}){'; now ACTIVE' if args.activate else ''}")
    print(f"recall@10 {metrics['text_to_image_recall@10']:.4f}  MRR@10 {metrics['text_to_image_mrr@10']:.4f} "
          f"on {metrics['metrics_on']} pairs")
    if args.json is not None:
        args.json.write_text(json.dumps({"version": version, "parent": parent, "options": options.__dict__,
                                         "activated": args.activate, "metrics": metrics}, indent=2, default=float))
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from .encoder_runs import encoder_versions

    rows = encoder_versions(get_settings())
    if args.json:
        print(json.dumps(rows, indent=2, default=float))
        return 0
    if not rows:
        print("no encoder versions yet: python -m recsys train encoder")
    for row in rows:
        recall = "-" if row["recall@10"] is None else f"{row['recall@10']:.3f}"
        print(f"{'*' if row['active'] else ' '} {row['version']}  {row['created']}  recall@10 {recall}  "
              f"parent {row['parent'] or '-'}")
    return 0


def cmd_models_activate(args: argparse.Namespace) -> int:
    from recsys import registry

    try:
        registry.activate(get_settings(), args.version)
    except (KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"ACTIVE -> {args.version} (served from the next start; the Training tab switches a running app)")
    return 0
