"""``recsys eval SUITE --data DIR [--train DIR] [--model VERSION] [--seed N] [--limit N] [--catalog-view V]
[--folds N] [--json] [-o FILE]``; the replay suite reads an app data dir (``eval replay --data-dir DIR
[--split-at ISO | --test-fraction F] [--k N]``).

``add_eval_parser`` registers the sub-command on the project CLI; ``run_eval`` runs the suite with progress on
stderr, prints the table (or the report as JSON with ``--json``), stores the report in the reports dir and also
writes it to ``-o FILE`` when given. Exit 0 on success, 2 on bad input.
"""

from __future__ import annotations

import argparse
import inspect
import time
from pathlib import Path

from recsys.cli_output import ProgressReporter, add_output_arguments, clock, deferred, emit, note, say
from recsys.config import Settings, get_settings

HEARTBEAT_S = 60.0  # a "still working" line this often when a suite reports no progress of its own


def add_eval_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate TailLift and baselines on a data set",
        description="Run one evaluation suite and store its report.",
    )
    deferred(parser, _eval_arguments)  # the suites import the models: only when `eval` runs
    parser.set_defaults(func=run_eval)
    return parser


def _eval_arguments(parser: argparse.ArgumentParser) -> None:
    from recsys.evaluation.suites import SUITES

    parser.add_argument("suite", choices=sorted(SUITES), help="which suite")
    parser.add_argument(
        "--data",
        "--data-dir",
        required=True,
        type=Path,
        help="directory in the ../shared/data format (replay: an app data dir holding its catalog)",
    )
    parser.add_argument(
        "--train", type=Path, default=None, help="fit on this directory instead of a held-out split of --data"
    )
    parser.add_argument("--model", default=None, help="model version label recorded in the report")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--limit",
        "--corpus-size",
        type=int,
        default=None,
        help="fashion: most evaluated items in the corpus (deterministic hash sample, e.g. 2000; "
        "default 0 = the whole held-out corpus)",
    )
    parser.add_argument(
        "--catalog-view",
        action="append",
        choices=("item", "title"),
        default=None,
        help="fashion: texts per fit item the heads train on (repeat; default both: its clip text and its title)",
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=0,
        help="crowdflower: also run an outer N-fold cross-validation by query over all queries "
        "of --data (every method fitted on the other folds only), e.g. 5",
    )
    parser.add_argument("--split-at", default=None, help="replay: fit before this ISO 8601 time (no zone = UTC)")
    parser.add_argument(
        "--test-fraction", type=float, default=0.2, help="replay: without --split-at, the newest share of the log"
    )
    parser.add_argument("--k", type=int, default=20, help="replay: list length scored")
    add_output_arguments(parser, "the report")


def run_eval(args: argparse.Namespace, settings: Settings | None = None) -> int:
    from recsys.evaluation import report as reports
    from recsys.evaluation.suites import SUITES, run_suite

    settings = settings or get_settings()
    started = time.perf_counter()
    with ProgressReporter(f"eval {args.suite}", heartbeat_s=HEARTBEAT_S) as progress:
        try:
            options: dict = {}
            if args.suite == "fashion":  # the one suite that loads a model version and samples its corpus
                options = {"model": args.model} | ({"limit": args.limit} if args.limit is not None else {})
                if args.catalog_view:
                    options["views"] = tuple(dict.fromkeys(args.catalog_view))
            elif args.suite == "crowdflower" and getattr(args, "folds", 0):
                options = {"folds": args.folds}
            elif args.suite == "replay":
                options = {"split_at": args.split_at, "test_fraction": args.test_fraction, "k": args.k}
            if "progress" in inspect.signature(SUITES[args.suite]).parameters:
                options["progress"] = progress
            result = run_suite(args.suite, args.data, args.train, settings, args.seed, **options)
        except (FileNotFoundError, KeyError, ValueError) as exc:
            note(f"eval: {exc}")
            return 2
    if args.model and args.suite != "fashion":
        # only the fashion suite loads a model version; elsewhere the version labels the report
        result["model_version"] = args.model
    text = reports.format_table(result)
    if result.get("outer_cv"):
        from recsys.evaluation.crowdflower import format_outer_cv

        text += "\n\n" + format_outer_cv(result)
    if args.suite == "fashion" and result.get("headline"):
        from recsys.evaluation.fashion import format_headline

        text += "\n\n" + format_headline(result)
    emit(args, result, text)
    stored = reports.store(result, settings, label=args.model)
    say(
        args,
        f"eval {args.suite}: {len(result.get('methods', {}))} methods in {clock(time.perf_counter() - started)}; "
        f"report stored: {stored}" + (f", written: {args.output}" if getattr(args, "output", None) else ""),
    )
    return 0
