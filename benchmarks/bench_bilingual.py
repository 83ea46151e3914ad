"""Bilingual search quality (English vs Chinese, head vs tail types, with and without query understanding).

    python benchmarks/bench_bilingual.py --work-dir /tmp/bilingual2k
    python benchmarks/bench_bilingual.py --work-dir /tmp/bilingual2k --limit 2000 --json out.json

The first run imports the held-out sample (and as many fit items, for the first-start head training) into
WORK_DIR/app (minutes); later runs reuse it. See recsys/evaluation/bilingual.py for the split, the relevance rule
and the configurations.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from recsys.accounts.principal import SYSTEM
from recsys.catalog.models import Item
from recsys.config import REPO_ROOT, Settings
from recsys.evaluation import bilingual, fashion_data
from recsys.service.taillift import TailLiftService
from recsys.splits import is_holdout


def build_catalog(
    data_dir: Path, work_dir: Path, limit: int, settings: Settings | None = None
) -> tuple[TailLiftService, tuple[int, ...]]:
    """An app data dir under ``work_dir`` holding the held-out sample and as many fit items (imported once, reused
    by later runs); returns the service and the catalog ids of the fit items (searches exclude them)."""
    frame = fashion_data.read_rows(data_dir)
    held = frame["id"].map(is_holdout)
    evaluated = fashion_data.sample(frame[held], limit)
    fit = fashion_data.sample(frame[~held], limit)
    settings = settings or Settings.from_env({"data_dir": work_dir / "app", "demo_limit": 0})
    service = TailLiftService(settings)
    if service.stats()["items"] == 0:
        work_dir.mkdir(parents=True, exist_ok=True)
        subset = work_dir / fashion_data.STYLES  # the sampled rows of the data dir's own file, for the importer
        pd.concat([evaluated, fit]).to_csv(subset, index=False)
        report = service.import_bundle(SYSTEM, subset, data_dir / fashion_data.IMAGES, preset="fashion")
        if report.refused:
            raise ValueError(f"import refused: {report.refused}")
    service.load_models()
    with service.store.sessions() as session:
        rows = session.execute(select(Item.id, Item.external_id)).all()
    return service, tuple(sorted(int(i) for i, external in rows if not is_holdout(external)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "fashion")
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    data_dir = fashion_data.suite_dir(args.data)
    frame = fashion_data.read_rows(data_dir)
    fit = frame[~frame["id"].map(is_holdout)]
    service, excluded = build_catalog(data_dir, args.work_dir, args.limit)
    assert service.engine is not None
    try:
        report = bilingual.evaluate(
            service.engine,
            bilingual.load_queries(),
            fashion_data.tail_types(fit["articleType"]),
            frozenset(fit["articleType"]),
            excluded,
            progress=lambda line: print(line, file=sys.stderr),
        )
    finally:
        service.close()
    report["corpus"] = (
        f"{args.limit} held-out fashion items (hash sample) ranked, in a catalog with {len(excluded)} fit items "
        f"(excluded from results), served from {args.work_dir / 'app'}"
    )
    report["text_route"] = service.settings.text_model
    print(bilingual.format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
