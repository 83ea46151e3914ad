"""One row of an events file (user, item, event, time, order) checked into an ``EventDraft``, or its reasons.

Nothing here touches the database: whether the item exists and whether the order was imported before is the
importer's business (``events_import``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from recsys.catalog.models import EVENT_TYPES
from recsys.catalog.plain_text import as_text, shown

REQUIRED_COLUMNS = ("user", "item", "event", "time")
ORDER_COLUMN = "order"  # optional: the basket id of a purchase
MAX_ID_CHARS = 100  # Interaction.user_id / order_id are String(100)
MAX_ITEM_ID_CHARS = 200  # Item.external_id is String(200)
# Epoch seconds in this range are taken as times (1990 .. 2100); anything else numeric is refused, not guessed.
EPOCH_RANGE = (631_152_000, 4_102_444_800)


@dataclass(frozen=True)
class EventDraft:
    row: int
    user: str
    item: str  # the merchant's external id
    event: str
    time: datetime  # aware, UTC
    order: str | None


def check_event_row(number: int, values: dict[str, object]) -> tuple[EventDraft | None, list[str]]:
    """(the draft, []) or (None, reasons); never raises."""
    reasons: list[str] = []
    user = _identifier(values.get("user"), "user", MAX_ID_CHARS, reasons, required=True)
    item = _identifier(values.get("item"), "item", MAX_ITEM_ID_CHARS, reasons, required=True)
    event = _event(values.get("event"), reasons)
    time = parse_time(values.get("time"), reasons)
    order = _identifier(values.get(ORDER_COLUMN), "order", MAX_ID_CHARS, reasons, required=False)
    if reasons or user is None or item is None or event is None or time is None:
        return None, reasons
    return EventDraft(number, user, item, event, time, order or None), []


def _identifier(value: object, name: str, limit: int, reasons: list[str], *, required: bool) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a Parquet or pandas id column read as float (1.0)
    text = as_text(value, name, reasons, allow_numbers=True)
    if text is None:
        return None
    text = text.strip()
    if not text and required:
        reasons.append(f"{name} is empty")
        return None
    if len(text) > limit:
        reasons.append(f"{name} is {len(text)} characters, over the {limit} limit")
        return None
    return text


def _event(value: object, reasons: list[str]) -> str | None:
    if not isinstance(value, str) or value.strip().lower() not in EVENT_TYPES:
        reasons.append(f"unknown event {shown(value)}; use one of {', '.join(EVENT_TYPES)}")
        return None
    return value.strip().lower()


def parse_time(value: object, reasons: list[str]) -> datetime | None:
    """ISO 8601 text ("2026-01-31", "2026-01-31T12:00:00+01:00"; no zone means UTC) or epoch seconds (a number,
    or its digits in a CSV cell); returned as an aware UTC time."""
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        value = float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or not EPOCH_RANGE[0] <= value <= EPOCH_RANGE[1]:
            reasons.append(f"time {shown(value)} is not epoch seconds between 1990 and 2100")
            return None
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or not value.strip():
        reasons.append("time is empty" if value in (None, "") else f"time must be text, not {shown(value)}")
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        reasons.append(f"time {shown(text)} is not an ISO 8601 date or time (e.g. 2026-01-31T12:00:00)")
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def naive_utc(value: datetime) -> datetime:
    """A time as SQLite hands it back (naive, UTC), so times read back compare equal to times imported."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
