"""The Instacart demo (``RECSYS_DEMO=instacart``): its groceries as the ``demo`` merchant's catalog (no images) and
its real baskets as purchase events, so the recommendations start from real behaviour.

The files are written as the standard catalog and events CSVs (``catalog/instacart_files.py``) and go through the
service's own importers as the system principal: validated and reported like any merchant's import, and the same
path the evaluation suite takes. ``settings.demo_orders`` orders (whole users' histories) are seeded.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from recsys.accounts.principal import SYSTEM, Principal
from recsys.catalog.demo import DEMO_MERCHANT, write_seed_state
from recsys.catalog.events_import import EventsReport
from recsys.catalog.importer import ImportReport
from recsys.catalog.instacart_files import write_standard_files
from recsys.config import Settings
from recsys.progress import Progress

log = logging.getLogger(__name__)


class Importing(Protocol):
    """What the seed needs of the catalog service."""

    settings: Settings

    def import_bundle(
        self, actor: Principal, catalog_path: Path, *, merchant: str | None = ..., progress: Progress | None = ...
    ) -> ImportReport: ...

    def import_events(
        self, actor: Principal, path: Path, *, merchant: str | None = ..., progress: Progress | None = ...
    ) -> EventsReport: ...


def seed_instacart(
    service: Importing, resuming: bool, progress: Progress | None = None, stage: str = "seeding"
) -> ImportReport:
    """Seed the catalog and the orders; the marker says "done" only after both imports went through. ``progress``
    hears each import's rows under ``stage``."""
    settings = service.settings
    if progress is not None:
        outer = progress
        progress = lambda done, total, _summary: outer(done, total, stage)  # noqa: E731
    marker = {"state": "seeding", "demo": "instacart", "dir": str(settings.instacart_dir)}
    write_seed_state(settings.data_dir, {**marker, "orders": settings.demo_orders})
    log.info("%s the instacart demo from %s", "resuming" if resuming else "seeding", settings.instacart_dir)
    files = write_standard_files(
        settings.instacart_dir,
        settings.data_dir / "demo-instacart",
        max_orders=max(1, settings.demo_orders),
        ordered_products_only=True,
    )
    report = service.import_bundle(SYSTEM, files.catalog, merchant=DEMO_MERCHANT, progress=progress)
    log.info("demo import: %s", report.summary())
    if not report.ok:
        log.warning("the demo catalog was refused; the next start tries again: %s", report.refused)
        return report
    events = service.import_events(SYSTEM, files.events, merchant=DEMO_MERCHANT, progress=progress)
    log.info("demo events: %s", events.summary())
    if not events.ok:
        log.warning("the demo events were refused; the next start tries again: %s", events.refused)
        return report
    counts = {"rows": report.total_rows, "rejected": len(report.rejected), "events": events.imported}
    write_seed_state(settings.data_dir, {**marker, "state": "done", "orders": files.orders, **counts})
    return report
