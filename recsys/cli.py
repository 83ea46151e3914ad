"""Command line: ``python -m recsys import|stats|gc-images|serve|search|eval|train|models``.

Each subcommand prints a readable summary, or JSON with ``--json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .config import get_settings
from .evaluation.cli import add_eval_parser
from .search_cli import add_search_parser
from .training.cli import add_encoder_parser, add_models_parser, add_train_parser


def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(text)


def cmd_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from recsys.service.catalog import CatalogService

    source = Path(args.source) if args.source else None
    catalog, images = args.catalog, args.images
    if source is not None:
        catalog = catalog or _first_existing(source, ["styles.csv", "catalog.csv", "catalog.jsonl", "items.csv"])
        images = images or _first_existing(source, ["images.zip"])
    if not catalog:
        print("error: give --source DIR holding a catalog file, or --catalog FILE", file=sys.stderr)
        return 2
    service = CatalogService(get_settings())
    bar = tqdm(total=None, unit="row", disable=args.json, desc="import")

    def progress(done: int, total: int, _message: str) -> None:
        bar.total = total
        bar.update(done - bar.n)

    report = service.import_bundle(Path(catalog), Path(images) if images else None, preset=args.preset,
                                   mapping_overrides=args.map, merchant=args.merchant, limit=args.limit,
                                   progress=progress)
    bar.close()
    if report.ok and args.with_demo_reviews:
        from .catalog.demo import attach_demo_reviews

        attach_demo_reviews(service.sessions, service.settings.demo_reviews_path)
    lines = [report.summary()]
    lines += [f"  row {e.row} (id {e.id or '?'}): {'; '.join(e.reasons)}" for e in report.rejected[:50]]
    if len(report.rejected) > 50:
        lines.append(f"  ... {len(report.rejected) - 50} more rejected rows (use --json for all)")
    _emit(args, report.to_dict(), "\n".join(lines))
    return 0 if report.ok else 1


def _first_existing(folder: Path, names: list[str]) -> str | None:
    for name in names:
        if (folder / name).exists():
            return str(folder / name)
    return None


def cmd_stats(args: argparse.Namespace) -> int:
    from recsys.service.catalog import CatalogService

    stats = CatalogService(get_settings()).stats()
    _emit(args, stats, "\n".join(f"{k:>14}: {v}" for k, v in stats.items()))
    return 0


def cmd_gc_images(args: argparse.Namespace) -> int:
    from recsys.service.catalog import CatalogService

    if args.min_age_hours < 0:
        print("error: --min-age-hours must be >= 0", file=sys.stderr)
        return 2
    report = CatalogService(get_settings()).collect_image_garbage(args.min_age_hours, dry_run=args.dry_run)
    _emit(args, report.to_dict(), report.summary())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .ui.app import create_service, launch

    settings = get_settings()
    settings = settings.replace(host=args.host or settings.host, port=args.port or settings.port)
    launch(create_service(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recsys", description="TailLift search and recommendation")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("import", help="bulk-import a catalog file and an images zip")
    p.add_argument("--source", help="folder holding the catalog file and images.zip")
    p.add_argument("--catalog", help="catalog file (CSV or JSONL)")
    p.add_argument("--images", help="images zip")
    p.add_argument("--preset", default="default", help="column mapping preset: default, fashion")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help="override one mapping field")
    p.add_argument("--merchant", default="default")
    p.add_argument("--limit", type=int)
    p.add_argument("--with-demo-reviews", action="store_true",
                   help="attach real reviews of similar garments to matching demo items (labelled as such)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("stats", help="catalog counts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("gc-images", help="remove stored image files that no item references any more")
    p.add_argument("--min-age-hours", type=float, default=24.0,
                   help="keep unreferenced files younger than this (an import may still be committing them)")
    p.add_argument("--dry-run", action="store_true", help="report what would be removed, remove nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_gc_images)

    p = sub.add_parser("serve", help="start the web app")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)

    add_search_parser(sub)
    add_eval_parser(sub)
    add_encoder_parser(add_train_parser(sub))
    add_models_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
