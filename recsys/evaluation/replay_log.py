"""The app's own event log for the replay suite: items and timed interest events read from a catalog, the time
split, and the head/tail rule.

The split is by time alone: every event strictly before ``T`` may be fitted on, every event at or after ``T`` is
what is predicted, so nothing a shopper did at or after ``T`` can reach the fit (a test checks it on a log whose
answers are only in the future).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from recsys.catalog import reads
from recsys.catalog.models import INTEREST_EVENTS, Interaction
from recsys.recommend.served import EventRow, ItemRow, shopper_keys

HEAD_EVENT_SHARE = 0.8  # head = the most interacted items that together hold 80% of the fit-period events


@dataclass(frozen=True)
class TimedEvent:
    row: EventRow
    at: datetime  # UTC


@dataclass(frozen=True)
class Split:
    at: datetime  # T: fit on events before it, predict events from it on
    fit: list[TimedEvent]
    test: list[TimedEvent]
    rule: str  # how T was chosen, for the report


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were written as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_time(text: str) -> datetime:
    """ISO 8601; no zone means UTC."""
    try:
        return as_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise ValueError(f"--split-at {text!r} is not an ISO 8601 time (e.g. 2025-03-01T00:00:00)") from None


def read_items(session: Session) -> list[ItemRow]:
    """The catalog's items as the served recommenders read them (``service.recommendations`` builds the same rows)."""
    return [
        ItemRow(r.id, r.title, r.category or "", str((r.attributes or {}).get("brand") or ""), r.attributes or {})
        for r in reads.item_rows(session)
    ]


def read_events(session: Session) -> list[TimedEvent]:
    """Every interest event with its time, oldest first; the shopper as the app keys them (``served.shopper_keys``:
    the account, else the account the browser signed in as, else the browser's id)."""
    rows = session.execute(
        select(
            Interaction.user_id,
            Interaction.session_id,
            Interaction.item_id,
            Interaction.event,
            Interaction.order_id,
            Interaction.created_at,
        )
        .where(Interaction.event.in_(INTEREST_EVENTS))
        .order_by(Interaction.created_at, Interaction.id)
    ).all()
    keys = shopper_keys([r[0] or "" for r in rows], [r[1] or "" for r in rows])
    return [TimedEvent(EventRow(key, r[1] or "", r[2], r[3], r[4] or ""), as_utc(r[5])) for key, r in zip(keys, rows)]


def split_log(events: Sequence[TimedEvent], split_at: datetime | None = None, test_fraction: float = 0.2) -> Split:
    """Fit = events strictly before T, test = the rest. T is ``split_at``, else the time of the first event of the
    newest ``test_fraction`` of the log (so events sharing that time all land in the test period)."""
    ordered = sorted(events, key=lambda e: e.at)
    if not ordered:
        raise ValueError("the log has no interest events (view, click, cart, purchase) to replay")
    if split_at is None:
        if not 0 < test_fraction < 1:
            raise ValueError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
        at = ordered[min(len(ordered) - 1, math.floor((1 - test_fraction) * len(ordered)))].at
        rule = f"T = the time of the first event of the newest {test_fraction:.0%} of the log"
    else:
        at = as_utc(split_at)
        rule = "T given (--split-at)"
    fit = [e for e in ordered if e.at < at]
    test = [e for e in ordered if e.at >= at]
    if not fit:
        raise ValueError(f"no events before {at.isoformat()}: nothing to fit on")
    if not test:
        raise ValueError(f"no events at or after {at.isoformat()}: nothing to predict")
    return Split(at, fit, test, rule)


def head_by_event_share(counts: np.ndarray, share: float = HEAD_EVENT_SHARE) -> np.ndarray:
    """True for the most interacted items (ties to the lower index) up to and including the one that brings their
    events to ``share`` of all; every other item (never-interacted ones included) is tail."""
    counts = np.asarray(counts, dtype=np.float64)
    head = np.zeros(counts.size, dtype=bool)
    total = counts.sum()
    if total <= 0:
        return head
    order = np.lexsort((np.arange(counts.size), -counts))
    order = order[counts[order] > 0]
    reach = np.cumsum(counts[order]) / total
    head[order[: int(np.searchsorted(reach, share - 1e-12)) + 1]] = True
    return head


def log_fingerprint(items: Sequence[ItemRow], events: Sequence[TimedEvent]) -> dict:
    """sha256 over the item ids and the timed events: two reports with the same one replayed the same log."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(f"{item.item_id}\n".encode())
    for e in events:
        r = e.row
        digest.update(
            f"{r.shopper}\t{r.session_id}\t{r.item_id}\t{r.event}\t{r.order_id}\t{e.at.isoformat()}\n".encode()
        )
    return {"sha256": digest.hexdigest(), "items": len(items), "events": len(events)}
