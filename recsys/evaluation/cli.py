"""``recsys eval SUITE --data DIR [--train DIR] [--model VERSION] [--json OUT] [--seed N] [--folds N]``.

``add_eval_parser`` registers the sub-command on the project CLI; ``run_eval`` prints the table, stores the
report in the reports dir and optionally writes it to ``--json``. Exit 0 on success, 2 on bad input.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from recsys.config import Settings, get_settings
from recsys.evaluation import report as reports
from recsys.evaluation.suites import SUITES, run_suite

log = logging.getLogger(__name__)


def add_eval_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("eval", help="evaluate TailLift and baselines on a data set",
                                   description="Run one evaluation suite and store its report.")
    parser.add_argument("suite", choices=sorted(SUITES), help="which suite")
    parser.add_argument("--data", required=True, type=Path, help="directory in the ../shared/data format")
    parser.add_argument("--train", type=Path, default=None,
                        help="fit on this directory instead of a held-out split of --data")
    parser.add_argument("--model", default=None, help="model version label recorded in the report")
    parser.add_argument("--json", type=Path, default=None, help="also write the report to this file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None,
                        help="fashion: most evaluated items in the corpus (deterministic sample, default 2000)")
    parser.add_argument("--folds", type=int, default=0,
                        help="crowdflower: also run an outer N-fold cross-validation by query over all queries "
                             "of --data (every method fitted on the other folds only), e.g. 5")
    parser.set_defaults(func=run_eval)
    return parser


def run_eval(args: argparse.Namespace, settings: Settings | None = None) -> int:
    settings = settings or get_settings()
    try:
        options = {}
        if args.suite == "fashion":  # the one suite that loads a model version and samples its corpus
            options = {"model": args.model} | ({"limit": args.limit} if args.limit else {})
        elif args.suite == "crowdflower" and getattr(args, "folds", 0):
            options = {"folds": args.folds}
        result = run_suite(args.suite, args.data, args.train, settings, args.seed, **options)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    if args.model and args.suite != "fashion":
        # only the fashion suite loads a model version; elsewhere the version labels the report
        result["model_version"] = args.model
    print(reports.format_table(result))
    if result.get("outer_cv"):
        from recsys.evaluation.crowdflower import format_outer_cv

        print("\n" + format_outer_cv(result))
    stored = reports.store(result, settings, label=args.model)
    print(f"\nreport stored: {stored}")
    if args.json:
        reports.write_json(result, args.json)
        print(f"report written: {args.json}")
    return 0
