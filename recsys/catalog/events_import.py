"""Bulk import of interaction history: an events file (CSV, JSONL or Parquet: user, item, event, time, order) ->
logged events, committed per batch.

Every row is checked (``events_rows``) before its batch touches the database; a bad row is rejected with its
reasons and the rows after it are still imported. The item column is the merchant's own id: a row naming an
item the catalog lacks is rejected and the id named in ``unknown_items``. Re-importing a file adds nothing: an
order (basket) id already logged is skipped whole, and an event without an order is skipped when the same user,
item, event and time are logged already.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from recsys.catalog import repository as repo
from recsys.catalog.bulk_files import ImportRefused, RawRow, read_catalog_rows
from recsys.catalog.events_rows import REQUIRED_COLUMNS, EventDraft, check_event_row, naive_utc
from recsys.catalog.importer import RowError
from recsys.catalog.plain_text import shown
from recsys.config import Settings

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
MAX_NAMED_UNKNOWN = 200  # the report names this many distinct unknown item ids (and counts them all)


@dataclass
class EventsReport:
    total_rows: int = 0
    imported: int = 0
    already_imported: int = 0  # rows skipped: their order, or the very same event, was logged before
    orders_added: int = 0
    orders_already_imported: int = 0
    rejected: list[RowError] = field(default_factory=list)
    unknown_items: list[str] = field(default_factory=list)  # the first MAX_NAMED_UNKNOWN distinct ones
    unknown_item_count: int = 0  # distinct unknown item ids in all
    refused: str = ""  # whole-file refusal: nothing was written
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.refused

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        if self.refused:
            return f"Refused, nothing imported: {self.refused}"
        return (
            f"{self.total_rows} rows: {self.imported} events imported ({self.orders_added} orders), "
            f"{self.already_imported} already imported ({self.orders_already_imported} orders), "
            f"{len(self.rejected)} rejected ({self.unknown_item_count} unknown item ids) ({self.seconds:.1f} s)"
        )


@dataclass
class _Run:
    """What one import has seen so far, across its batches."""

    report: EventsReport
    merchant_name: str | None
    order_users: dict[str, tuple[str, int]] = field(default_factory=dict)  # order -> (user, first row)
    orders_written: set[str] = field(default_factory=set)  # orders this import logged (they span batches)
    orders_skipped: set[str] = field(default_factory=set)  # orders logged before this import
    unknown: set[str] = field(default_factory=set)


def import_events(
    path: Path,
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    merchant_name: str | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> EventsReport:
    """Import the file's events; ``merchant_name`` says whose external ids the item column holds (None: any
    merchant's, as long as only one has that id)."""
    started = time.perf_counter()
    report = EventsReport()
    try:
        _, rows = read_catalog_rows(Path(path), required_columns=REQUIRED_COLUMNS, max_bytes=settings.max_events_bytes)
        if merchant_name is not None:
            with sessions() as session:
                if not repo.merchant_exists(session, merchant_name):
                    raise ImportRefused(f"no merchant is named {shown(merchant_name)}; import its catalog first")
    except ImportRefused as exc:
        report.refused = str(exc)
        report.seconds = time.perf_counter() - started
        return report
    if limit is not None:
        rows = rows[:limit]
    report.total_rows = len(rows)
    run = _Run(report, merchant_name)
    drafts = _checked(rows, run)
    size = max(1, settings.events_batch_size)
    for start in range(0, len(drafts), size):
        _commit_batch(drafts[start : start + size], sessions, run)
        if progress:
            progress(min(len(rows), drafts[min(len(drafts), start + size) - 1].row), len(rows), report.summary())
    if progress and not drafts:
        progress(len(rows), len(rows), report.summary())
    report.unknown_items = sorted(run.unknown)[:MAX_NAMED_UNKNOWN]
    report.unknown_item_count = len(run.unknown)
    report.rejected.sort(key=lambda error: error.row)
    report.seconds = time.perf_counter() - started
    return report


def _checked(rows: list[RawRow], run: _Run) -> list[EventDraft]:
    """The rows that pass every check of their own and against the earlier rows of the file."""
    seen: dict[tuple, int] = {}
    drafts = []
    for row in rows:
        if row.problem:
            run.report.rejected.append(RowError(row.number, "", [row.problem]))
            continue
        try:
            draft, reasons = check_event_row(row.number, row.values)
        except Exception as exc:  # a bug, not the merchant's doing: this row is rejected and the import goes on
            log.exception("events row %d could not be checked", row.number)
            draft, reasons = None, [f"this row could not be checked (internal error {type(exc).__name__})"]
        if draft is not None:
            key = (draft.user, draft.item, draft.event, draft.time, draft.order)
            if key in seen:
                reasons.append(f"repeats row {seen[key]} (same user, item, event, time and order)")
            elif draft.order is not None:
                owner, first = run.order_users.setdefault(draft.order, (draft.user, draft.row))
                if owner != draft.user:
                    reasons.append(
                        f"order {shown(draft.order)} belongs to user {shown(owner)} (row {first}), "
                        f"not to {shown(draft.user)}"
                    )
            seen.setdefault(key, row.number)
        if reasons or draft is None:
            item = row.values.get("item")
            run.report.rejected.append(RowError(row.number, item if isinstance(item, str) else "", reasons))
            continue
        drafts.append(draft)
    return drafts


def _commit_batch(batch: list[EventDraft], sessions: sessionmaker[Session], run: _Run) -> None:
    report = run.report
    try:
        with sessions.begin() as session:  # one transaction per batch: all its rows or none
            items = repo.item_ids_by_external_id(session, (d.item for d in batch), run.merchant_name)
            new_orders = {d.order for d in batch if d.order} - run.orders_written - run.orders_skipped
            run_skipped_before = set(run.orders_skipped)
            skipped_now = repo.logged_order_ids(session, new_orders)
            logged = {
                (user, item, event, naive_utc(at))
                for user, item, event, at in repo.orderless_events_of(session, (d.user for d in batch if not d.order))
            }
            rows, written, skipped, orders = [], 0, 0, set()
            for draft in batch:
                ids = items.get(draft.item, [])
                if len(ids) != 1:
                    report.rejected.append(RowError(draft.row, draft.item, [_item_problem(draft.item, ids, run)]))
                    continue
                if draft.order and (draft.order in skipped_now or draft.order in run_skipped_before):
                    skipped += 1
                    continue
                if not draft.order and (draft.user, ids[0], draft.event, naive_utc(draft.time)) in logged:
                    skipped += 1
                    continue
                rows.append(
                    {
                        "user_id": draft.user,
                        # A basket is one shopping session; other imported events have only their shopper.
                        "session_id": draft.order or draft.user,
                        "item_id": ids[0],
                        "event": draft.event,
                        "created_at": draft.time,
                        "order_id": draft.order,
                    }
                )
                if draft.order:
                    orders.add(draft.order)
            written = repo.insert_events(session, rows)
    except Exception as exc:  # the whole batch rolled back; say so per row
        log.exception("events batch of %d rows rolled back", len(batch))
        for draft in batch:
            report.rejected.append(
                RowError(draft.row, draft.item, [f"database error, batch rolled back: {shown(exc, 300)}"])
            )
        return
    run.orders_skipped |= skipped_now
    report.orders_already_imported += len(skipped_now)
    report.orders_added += len(orders - run.orders_written)
    run.orders_written |= orders
    report.imported += written
    report.already_imported += skipped


def _item_problem(external_id: str, ids: list[int], run: _Run) -> str:
    if ids:
        return (
            f"item {shown(external_id)} is an id of {len(ids)} merchants' items; name the merchant (--catalog-merchant)"
        )
    run.unknown.add(external_id)
    whose = f"merchant {shown(run.merchant_name)}'s catalog" if run.merchant_name else "the catalog"
    return f"unknown item {shown(external_id)}: {whose} has no item with this id"
