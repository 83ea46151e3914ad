"""``python -m recsys train ranker|encoder ...`` and ``python -m recsys models list|activate VERSION``.

``train`` holds one sub-subcommand per model kind; ``add_train_parser`` returns its sub-parsers so another
kind (``train encoder``) registers beside ``ranker`` with ``add_<kind>_parser(train_subparsers)``.

* ``--data DIR``: graded judgments in the CrowdFlower format (DIR/relevance.csv, DIR/crowdflower/relevance.csv
  or the CSV itself). Queries that ``recsys.splits.is_holdout`` selects are left out for evaluation. The
  model is saved for purpose "judgments" and is never served for the catalog.
* no ``--data``: the catalog's own ranker, from click logs when there are enough, else weak attribute-
  agreement labels on queries generated from non-held-out items; the next start of the service serves it.

``train multilingual-head`` fits the ACTIVE version's multilingual head (``recsys.training.multilingual_head_fit``)
on the catalog; search serves it for non-English queries (``recsys.search.multilingual_recall``).

``train encoder [--epochs N ... --activate] [--json] [-o FILE]`` retrains the projection heads on the catalog's
pairs (held-out items excluded) and saves a version recording its parent and options; ``--activate`` makes it
ACTIVE (served from the next start; the Training tab switches a running app). Its flags are generated from
``EncoderRunOptions`` (``recsys.options``), when the command is parsed: building them imports torch.
``models list`` shows encoder versions; ``models activate VERSION`` points ACTIVE at one (the rollback).
Wiring (recsys/cli.py): ``add_encoder_parser(add_train_parser(sub))`` and ``add_models_parser(sub)``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from recsys.cli_output import ProgressReporter, add_output_arguments, deferred, emit, note
from recsys.config import get_settings


def add_train_parser(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    parser = subparsers.add_parser("train", help="train a model and save it as a new version")
    kinds = parser.add_subparsers(dest="train_command", required=True, metavar="KIND")
    add_ranker_parser(kinds)
    add_multilingual_head_parser(kinds)
    return kinds


def add_encoder_parser(kinds: argparse._SubParsersAction) -> None:
    p = kinds.add_parser(
        "encoder",
        help="retrain the encoder's projection heads on the catalog (new version)",
        description="Retrain the encoder on the catalog's pairs and save a new version. The "
        "options are EncoderRunOptions' fields (docs/training.md).",
    )
    deferred(p, encoder_arguments)
    p.set_defaults(func=cmd_train_encoder)


def encoder_arguments(parser: argparse.ArgumentParser) -> None:
    """``train encoder``'s flags: one per ``EncoderRunOptions`` field, then the command's own."""
    from recsys import options
    from recsys.training.run_options import EncoderRunOptions

    options.add_arguments(parser, EncoderRunOptions)
    parser.add_argument("--activate", action="store_true", help="make the new version ACTIVE")
    add_output_arguments(parser, "version, parent, options and metrics")


def add_models_parser(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    parser = subparsers.add_parser("models", help="list encoder versions or activate one (rollback)")
    actions = parser.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    p = actions.add_parser("list", help="encoder versions, newest first; * = ACTIVE")
    add_output_arguments(p, "the versions")
    p.set_defaults(func=cmd_models_list)
    p = actions.add_parser("activate", help="point ACTIVE at VERSION (served from the next start)")
    p.add_argument("version")
    add_output_arguments(p, "the new ACTIVE version")
    p.set_defaults(func=cmd_models_activate)
    return actions


def add_ranker_parser(kinds: argparse._SubParsersAction) -> None:
    p = kinds.add_parser("ranker", help="LightGBM LambdaRank: CV grid search, refit, versioned save")
    p.add_argument("--data", type=Path, help="CrowdFlower-format judgments; without it, train on the catalog")
    p.add_argument("--max-queries", type=int, default=None, help="catalog: generated queries (default 600)")
    p.add_argument("--seed", type=int, default=0)
    add_output_arguments(p, "the CV report")
    p.set_defaults(func=cmd_train_ranker)


def add_multilingual_head_parser(kinds: argparse._SubParsersAction) -> None:
    p = kinds.add_parser(
        "multilingual-head",
        help="fit the USE head that brings non-English queries into the joint space",
        description="Fit the ACTIVE encoder version's multilingual head on the catalog (titles encoded with "
        "settings.multilingual_text_model, the version's image vectors as targets; held-out items left out). "
        "Search serves it for non-English queries from the next start (docs/search.md).",
    )
    add_output_arguments(p, "the fit metrics and where the head was saved")
    p.set_defaults(func=cmd_train_multilingual_head)


def cmd_train_multilingual_head(args: argparse.Namespace) -> int:
    from recsys.accounts.principal import SYSTEM
    from recsys.search.types import NotReady
    from recsys.service.taillift import TailLiftService

    service = TailLiftService(get_settings())
    try:
        with ProgressReporter("train multilingual-head: loading models", unit="item") as progress:
            service.load_models(progress)
        note("train multilingual-head: encoding titles and fitting…")
        fit = service.fit_multilingual_head(SYSTEM)
    except (NotReady, ValueError) as exc:
        note(f"error: {exc}")
        return 2
    finally:
        service.close()
    m = fit.metrics
    recall = m.get("validation_title_image_r@10")
    emit(
        args,
        {"path": str(fit.folder), "joint_version": fit.head.config.joint_version, "metrics": m},
        f"saved {fit.folder}: {m['fit_pairs']} pairs, {m['titles_encoded']} titles encoded "
        f"({m['titles_per_s'] or '-'} /s), fit {m['fit_seconds']} s, validation title->image R@10 "
        f"{'-' if recall is None else f'{recall:.3f}'}",
    )
    return 0


def _judgment_file(data: Path) -> Path:
    for candidate in (data, data / "relevance.csv", data / "crowdflower" / "relevance.csv"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no CrowdFlower relevance.csv at {data}")


def _train_on_judgments(data: Path, seed: int):
    import pandas as pd

    from recsys.encoders.text import TextEncoder
    from recsys.ranking.cv import train_and_save
    from recsys.ranking.embedding_cache import CachedTextEncoder
    from recsys.ranking.features import FEATURES
    from recsys.ranking.judgments import crowdflower_features
    from recsys.ranking.labels import graded_labels
    from recsys.ranking.ranker import JUDGMENTS
    from recsys.splits import is_holdout

    settings = get_settings()
    frame = pd.read_csv(_judgment_file(data))
    train = frame[~frame["query"].map(is_holdout)].reset_index(drop=True)
    encoder = CachedTextEncoder(
        TextEncoder(settings.text_model, device="cpu", query_precision=settings.query_precision),
        settings.data_dir / "cache",
    )
    note(f"train ranker: features for {len(train)} judged rows ({train['query'].nunique()} queries)…")
    X = crowdflower_features(train, text_encoder=encoder, catalog=frame)
    y = graded_labels(train["median_relevance"].to_numpy()).values
    training = {
        "labels": "judgments (median_relevance)",
        "weak": False,
        "queries": int(train["query"].nunique()),
        "rows": len(train),
        "source": str(_judgment_file(data)),
        "seed": seed,
    }
    note("train ranker: CV grid search…")
    return train_and_save(
        X,
        y,
        train["query"].tolist(),
        FEATURES.names,
        settings.models_dir,
        purpose=JUDGMENTS,
        training=training,
        seed=seed,
    )


def _train_on_catalog(max_queries: int | None, seed: int):
    from recsys.service.taillift import TailLiftService
    from recsys.training.catalog_ranker import DEFAULT_MAX_QUERIES, train_catalog_ranker

    service = TailLiftService(get_settings())
    try:
        with ProgressReporter("train ranker: loading models", unit="item") as progress:
            service.load_models(progress)
        with ProgressReporter("train ranker", unit="query") as progress:
            return train_catalog_ranker(
                service.store,
                service.training_snapshot(),
                max_queries=max_queries or DEFAULT_MAX_QUERIES,
                seed=seed,
                progress=progress,
            )
    finally:
        service.close()


def cmd_train_ranker(args: argparse.Namespace) -> int:
    try:
        if args.data is not None:
            result, path = _train_on_judgments(args.data, args.seed)
        else:
            result, path = _train_on_catalog(args.max_queries, args.seed)
    except (FileNotFoundError, ValueError) as exc:
        note(f"error: {exc}")
        return 2
    training = result.ranker.training
    report: dict[str, Any] = {
        "path": str(path),
        "purpose": result.ranker.purpose,
        "training": training,
        "cv": result.ranker.cv_scores,
        "chosen": {"mean": result.best.mean, "std": result.best.std, "params": result.best.params},
    }
    emit(
        args,
        report,
        "\n".join(
            [
                f"labels: {training.get('labels')}  queries: {training.get('queries')}  rows: {training.get('rows')}",
                f"CV nDCG@10 (GroupKFold by query, mean ± std over folds), {len(result.results)} configurations:",
                result.table(),
                f"chosen: {result.best.mean:.4f} ± {result.best.std:.4f} {result.best.params}",
                f"saved {path}",
            ]
        ),
    )
    return 0


def run_options(args: argparse.Namespace):
    """``EncoderRunOptions`` from ``train encoder`` arguments (ValueError with the reasons when invalid)."""
    from recsys import options
    from recsys.training.run_options import EncoderRunOptions

    return options.from_arguments(EncoderRunOptions, args)


def cmd_train_encoder(args: argparse.Namespace) -> int:
    from recsys import registry
    from recsys.service.catalog import CatalogService
    from recsys.training.encoder_runs import RunProgress, train_encoder

    try:
        options = run_options(args)
    except ValueError as exc:
        note(f"error: {exc}")
        return 2
    settings = get_settings()
    catalog = CatalogService(settings)  # no index needed: training reads pairs and cached tower features
    parent = registry.active_version(settings)
    training = ("training heads", "training towers")

    with ProgressReporter("train encoder", unit="epoch") as reporter:

        def progress(p: RunProgress) -> None:
            if p.stage in training:  # a step per epoch, with the epoch's loss
                reporter.unit = "epoch"
                detail = f"loss {p.losses[-1]:.4f}, {p.examples_per_s or 0:.0f} pairs/s" if p.losses else ""
                reporter(len(p.losses), options.epochs, p.stage, detail)
            elif p.stage != "saved":  # feature caching: the fraction done
                reporter.unit = "%"
                reporter(round(p.fraction * 100), 100, p.stage)

        try:
            version = train_encoder(catalog.store, options, parent=parent, on_progress=progress)
        except ValueError as exc:  # no pairs, a malformed judgments file: say so, save nothing
            note(f"error: {exc}")
            return 2
    if args.activate:
        registry.activate(settings, version)
    metrics = registry.read_config(registry.version_dir(settings, version))["metrics"]
    emit(
        args,
        {
            "version": version,
            "parent": parent,
            "options": options.__dict__,
            "activated": args.activate,
            "metrics": metrics,
        },
        f"saved {version} (parent {parent or '-'}){'; now ACTIVE' if args.activate else ''}: "
        f"recall@10 {metrics['text_to_image_recall@10']:.4f}, MRR@10 {metrics['text_to_image_mrr@10']:.4f} "
        f"on {metrics['metrics_on']} pairs",
    )
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from recsys.training.encoder_runs import encoder_versions

    rows = encoder_versions(get_settings())
    lines = [] if rows else ["no encoder versions yet: python -m recsys train encoder"]
    for row in rows:
        recall = "-" if row["recall@10"] is None else f"{row['recall@10']:.3f}"
        lines.append(
            f"{'*' if row['active'] else ' '} {row['version']}  {row['created']}  recall@10 {recall}  "
            f"parent {row['parent'] or '-'}"
        )
    emit(args, rows, "\n".join(lines))
    return 0


def cmd_models_activate(args: argparse.Namespace) -> int:
    from recsys import registry

    try:
        registry.activate(get_settings(), args.version)
    except (KeyError, ValueError) as exc:
        note(f"error: {exc}")
        return 2
    emit(
        args,
        {"active": args.version},
        f"ACTIVE -> {args.version} (served from the next start; the Training tab switches a running app)",
    )
    return 0
