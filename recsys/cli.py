"""Command line: ``python -m recsys COMMAND`` (``--help`` lists every command; the README's table matches it).

One contract for every command: a readable summary on stdout, or with ``--json`` the result as JSON on stdout and
nothing else there (progress and logs go to stderr); ``-o/--output FILE`` also writes the JSON to FILE. Long
commands show progress on stderr and end with a one-line summary.

This module imports no model code: each command imports what it needs when it runs, so ``stats``, ``import`` and
``gc-images`` start in about a second (``tests/test_cli.py`` checks that torch stays out).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from recsys.cli_output import (
    CommandParser,
    ProgressReporter,
    add_output_arguments,
    commands,
    emit,
    json_stdout,
    note,
)
from recsys.config import get_settings
from recsys.evaluation.cli import add_eval_parser
from recsys.search_cli import add_search_parser
from recsys.training.cli import add_encoder_parser, add_models_parser, add_train_parser


def cmd_import(args: argparse.Namespace) -> int:
    from recsys.service.catalog import CatalogService

    source = Path(args.source) if args.source else None
    catalog, images = args.catalog, args.images
    if source is not None:
        catalog = catalog or _first_existing(source, ["styles.csv", "catalog.csv", "catalog.jsonl", "items.csv"])
        images = images or _first_existing(source, ["images.zip"])
    if not catalog:
        note("error: give --source DIR holding a catalog file, or --catalog FILE")
        return 2
    from recsys.accounts.principal import SYSTEM

    service = CatalogService(get_settings())
    with ProgressReporter("import", unit="row") as reporter:
        report = service.import_bundle(
            SYSTEM,  # the operator at the command line owns the files: an admin, naming --merchant
            Path(catalog),
            Path(images) if images else None,
            preset=args.preset,
            mapping_overrides=args.map,
            merchant=args.merchant,
            limit=args.limit,
            progress=lambda done, total, _summary: reporter(done, total, "rows"),
        )
    if report.ok and args.with_demo_reviews:
        from recsys.catalog.demo import attach_demo_reviews

        attach_demo_reviews(service.sessions, service.settings.demo_reviews_path)
    lines = [f"  row {e.row} (id {e.id or '?'}): {'; '.join(e.reasons)}" for e in report.rejected[:50]]
    if len(report.rejected) > 50:
        lines.append(f"  ... {len(report.rejected) - 50} more rejected rows (use --json for all)")
    emit(args, report.to_dict(), "\n".join([*lines, report.summary()]))
    return 0 if report.ok else 1


def cmd_import_events(args: argparse.Namespace) -> int:
    from recsys.accounts.principal import SYSTEM
    from recsys.service.catalog import CatalogService

    service = CatalogService(get_settings())
    with ProgressReporter("import-events", unit="row") as reporter:
        report = service.import_events(
            SYSTEM,  # the operator at the command line: an admin, naming --catalog-merchant or not
            Path(args.file),
            merchant=args.catalog_merchant,
            limit=args.limit,
            progress=lambda done, total, _summary: reporter(done, total, "rows"),
        )
    lines = [f"  row {e.row} (item {e.id or '?'}): {'; '.join(e.reasons)}" for e in report.rejected[:50]]
    if len(report.rejected) > 50:
        lines.append(f"  ... {len(report.rejected) - 50} more rejected rows (use --json for all)")
    if report.unknown_items:
        more = report.unknown_item_count - len(report.unknown_items[:20])
        named = ", ".join(report.unknown_items[:20]) + (f" and {more} more" if more > 0 else "")
        lines.append(f"  unknown item ids: {named}")
    emit(args, report.to_dict(), "\n".join([*lines, report.summary()]))
    return 0 if report.ok else 1


def _first_existing(folder: Path, names: list[str]) -> str | None:
    for name in names:
        if (folder / name).exists():
            return str(folder / name)
    return None


def cmd_stats(args: argparse.Namespace) -> int:
    from recsys.service.catalog import CatalogService

    stats = CatalogService(get_settings()).stats()
    emit(args, stats, "\n".join(f"{k:>14}: {v}" for k, v in stats.items()))
    return 0


def cmd_gc_images(args: argparse.Namespace) -> int:
    from recsys.service.catalog import CatalogService

    if args.min_age_hours < 0:
        note("error: --min-age-hours must be >= 0")
        return 2
    from recsys.accounts.principal import SYSTEM

    service = CatalogService(get_settings())
    report = service.collect_image_garbage(SYSTEM, args.min_age_hours, dry_run=args.dry_run)
    emit(args, report.to_dict(), report.summary())
    return 0


def cmd_opinions(args: argparse.Namespace) -> int:
    from recsys.service.catalog import CatalogService
    from recsys.service.opinions import Opinions

    settings = get_settings()
    opinions = Opinions(CatalogService(settings).store, settings)
    note(opinions.build())
    summary = opinions.item_summary(args.item_id)
    lines = [f"item {summary.item_id}: {summary.reviews} reviews analysed"]
    for aspect in summary.aspects:
        lines.append(f"  {aspect.headline}")
        lines += [f'      "{q.sentence}" ({q.polarity})' for q in aspect.quotes]
    emit(args, summary.to_dict(), "\n".join(lines))
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from recsys.accounts.principal import SYSTEM
    from recsys.service.catalog import CatalogService

    password = _read_password(args.password_stdin)
    try:
        user = CatalogService(get_settings()).identity.add_user(SYSTEM, args.name, args.role, password)
    except ValueError as exc:
        note(f"error: {exc}")
        return 2
    emit(args, {"name": user.name, "role": user.role}, f"created {user}")
    return 0


def _read_password(from_stdin: bool) -> str:
    """From the first line of stdin (scripts), else asked twice on the terminal; never from a flag (shell history)."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("error: the two passwords differ")
    return first


def cmd_users_list(args: argparse.Namespace) -> int:
    from recsys.accounts.principal import SYSTEM
    from recsys.service.catalog import CatalogService

    found = CatalogService(get_settings()).identity.list_users(SYSTEM)
    rows = [{"name": u.name, "role": u.role} for u in found]
    emit(args, rows, "\n".join(f"{u.name}  {u.role}" for u in found) or "no accounts yet: python -m recsys users add")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from recsys.ui.app import create_service, launch

    settings = get_settings()
    settings = settings.replace(host=args.host or settings.host, port=args.port or settings.port)
    launch(create_service(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="python -m recsys",
        usage="python -m recsys [-h] [-v] COMMAND ...",
        description="TailLift search and recommendation. Every command takes --help; those "
        "with results\ntake --json (the result as JSON on stdout, logs on stderr) "
        "and -o FILE (also write it there).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log INFO messages to stderr")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help=argparse.SUPPRESS, prog="python -m recsys"
    )

    p = sub.add_parser("import", help="bulk-import a catalog file and an images zip")
    p.add_argument("--source", help="folder holding the catalog file and images.zip")
    p.add_argument("--catalog", help="catalog file (CSV or JSONL)")
    p.add_argument("--images", help="images zip")
    p.add_argument("--preset", default="default", help="column mapping preset: default, fashion")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help="override one mapping field")
    p.add_argument("--merchant", default="default")
    p.add_argument("--limit", type=int)
    p.add_argument(
        "--with-demo-reviews",
        action="store_true",
        help="attach real reviews of similar garments to matching demo items (labelled as such)",
    )
    add_output_arguments(p, "the import report")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "import-events",
        help="import interaction history (user, item, event, time, order) from CSV, JSONL or Parquet",
        description="Import events: columns user, item (the merchant's own item id), event (impression, view, "
        "click, cart, purchase), time (ISO 8601 or epoch seconds) and optionally order (the basket id of a "
        "purchase). Bad rows are reported and skipped; re-importing a file adds nothing.",
    )
    p.add_argument("file", help="events file (.csv, .jsonl or .parquet)")
    p.add_argument(
        "--catalog-merchant",
        default=None,
        metavar="NAME",
        help="whose item ids the item column holds (default: any merchant's, when only one has the id)",
    )
    p.add_argument("--limit", type=int, help="import only the first N rows")
    add_output_arguments(p, "the import report")
    p.set_defaults(func=cmd_import_events)

    p = sub.add_parser("stats", help="catalog counts")
    add_output_arguments(p, "the counts")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("gc-images", help="remove stored image files that no item references any more")
    p.add_argument(
        "--min-age-hours",
        type=float,
        default=24.0,
        help="keep unreferenced files younger than this (an import may still be committing them)",
    )
    p.add_argument("--dry-run", action="store_true", help="report what would be removed, remove nothing")
    add_output_arguments(p, "the report")
    p.set_defaults(func=cmd_gc_images)

    p = sub.add_parser("serve", help="start the web app")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("opinions", help="what an item's reviews praise and complain about, per aspect")
    p.add_argument("item_id", type=int, metavar="ITEM_ID")
    add_output_arguments(p, "the item's opinion summary")
    p.set_defaults(func=cmd_opinions)

    add_search_parser(sub)
    add_eval_parser(sub)
    add_encoder_parser(add_train_parser(sub))
    add_models_parser(sub)
    users = sub.add_parser("users", help="local accounts (merchants and admins)")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    p = actions.add_parser("add", help="create an account; the password is read from the terminal or stdin")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=("merchant", "admin"))
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add_output_arguments(p, "the new account")
    p.set_defaults(func=cmd_users_add)
    p = actions.add_parser("list", help="accounts and their roles")
    add_output_arguments(p, "the accounts")
    p.set_defaults(func=cmd_users_list)

    width = max(len(name) for name, _ in commands(parser)) + 2
    parser.epilog = "commands:\n" + "\n".join(f"  {name:<{width}}{text}" for name, text in commands(parser))
    return parser


def _log_to_stderr(level: int) -> None:
    """Log records of ``level`` and above to stderr (libraries that set DEBUG on their own loggers stay quiet)."""
    root = logging.getLogger()
    if root.handlers:  # configured already (tests, an embedding program)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _log_to_stderr(logging.INFO if args.verbose else logging.WARNING)
    machine = getattr(args, "json", False) or getattr(args, "batch", None) is not None
    with json_stdout(machine):
        return int(args.func(args) or 0)
