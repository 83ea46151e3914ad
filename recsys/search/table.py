"""ItemTable: the catalog as in-memory columns, for filters, facets, lexical text and ranking features.

Built in one pass of aggregate SQL queries; immutable once built (a change builds a new table), so a search holds
one consistent view from recall to ranking.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
from sqlalchemy.orm import Session

from recsys.catalog import reads

T = TypeVar("T")


@dataclass(frozen=True)
class ItemTable:
    ids: np.ndarray  # int64, sorted
    titles: list[str]
    descriptions: list[str]
    categories: list[str]  # full path "A > B > C"
    leaf: np.ndarray  # object: last level of the path (the article type)
    gender: np.ndarray  # object, "" when unknown
    colour: np.ndarray  # object, "" when unknown
    price: np.ndarray  # float32, NaN when unknown
    age_days: np.ndarray  # float32
    rating_sum: np.ndarray  # float32
    rating_count: np.ndarray  # float32
    impressions: np.ndarray  # float32
    clicks: np.ndarray  # float32
    has_image: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, item_ids: np.ndarray) -> np.ndarray:
        """Row positions of item ids (all must be present)."""
        return np.searchsorted(self.ids, item_ids)

    def value_mask(self, column: str, values: Sequence[str]) -> np.ndarray:
        """Rows whose ``column`` (``leaf``, ``gender`` or ``colour``) is one of ``values``.

        Compares integer codes, not the strings: an object-array comparison costs ~50 ms per filter at a million
        rows, the codes ~0.2 ms. The codes are made once per table, on its first filtered search (the table is
        immutable; an edit makes a new one)."""
        index, codes = self._codes(column)
        mask = np.zeros(len(codes), dtype=bool)
        for code in {index[v] for v in values if v in index}:  # a few values: == is ~40x faster than np.isin here
            mask |= codes == code
        return mask

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """A value derived from this table, made on first use and kept with it (the table is immutable, so it never
        goes stale; an edit makes a new table). Concurrent first uses may both make it; one is kept."""
        kept = self.__dict__.setdefault("_memo", {})  # frozen dataclass: the memo is not a field
        if key not in kept:
            kept.setdefault(key, make())
        return kept[key]

    def _codes(self, column: str) -> tuple[dict[str, int], np.ndarray]:
        def make() -> tuple[dict[str, int], np.ndarray]:
            index: dict[str, int] = {}
            values = getattr(self, column)
            codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int32, count=len(values))
            return index, codes

        return self.memo(("value_codes", column), make)

    def lexical_texts(self) -> list[str]:
        return lexical_texts(vars(self))


def load_item_table(session: Session, now: datetime | None = None) -> ItemTable:
    items = reads.item_rows(session)
    ids = np.fromiter((r.id for r in items), dtype=np.int64, count=len(items))
    return with_totals(session, ids, catalog_columns(items, now or datetime.now(UTC)))


def with_totals(session: Session, ids: np.ndarray, columns: dict[str, Any]) -> ItemTable:
    """The table of ``ids`` (sorted) with their catalog ``columns`` and the review, event and image totals read
    now: aggregate queries whose cost follows the reviews and events, not a read of every item row."""
    reviews = reads.review_totals(session)
    events = reads.event_totals(session)
    rating_sum, rating_count = _by_id(ids, reviews, 2)
    impressions, clicks = _by_id(ids, events, 2)
    has_image = np.isin(ids, np.fromiter(reads.items_with_images(session), np.int64))
    return ItemTable(
        ids=ids,
        **columns,
        rating_sum=rating_sum,
        rating_count=rating_count,
        impressions=impressions,
        clicks=clicks,
        has_image=has_image,
    )


def _by_id(ids: np.ndarray, totals: dict[int, tuple], width: int) -> list[np.ndarray]:
    """``width`` float32 columns aligned with ``ids`` from ``item id -> tuple`` (0 for ids without an entry)."""
    out = [np.zeros(ids.size, np.float32) for _ in range(width)]
    if not totals or not ids.size:
        return out
    keys = np.fromiter(totals, np.int64, count=len(totals))
    rows = np.minimum(np.searchsorted(ids, keys), ids.size - 1)
    found = ids[rows] == keys
    values = np.array([[v or 0 for v in totals[k]] for k in keys[found].tolist()], np.float64).reshape(-1, width)
    for column, part in zip(out, values.T):
        column[rows[found]] = part
    return out


def lexical_texts(columns: Mapping[str, Any]) -> list[str]:
    """The text BM25 indexes per row: title, category levels, gender, colour, description (``columns``: the
    catalog columns by name, as ``catalog_columns`` makes them)."""
    return [
        f"{t} {c.replace(' > ', ' ')} {g} {col} {d}".strip()
        for t, c, g, col, d in zip(
            columns["titles"], columns["categories"], columns["gender"], columns["colour"], columns["descriptions"]
        )
    ]


def catalog_columns(rows: Sequence[Any], now: datetime) -> dict[str, Any]:
    """The columns read from the items themselves (title ... age), for any rows with the catalog's item fields
    (``reads.item_rows`` or ``ItemView``): one derivation for the full build and the live-edit splice."""
    attrs = [r.attributes or {} for r in rows]

    def age(created: datetime) -> float:
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        return max(0.0, (now - created).total_seconds() / 86400)

    return {
        "titles": [r.title for r in rows],
        "descriptions": [r.description or "" for r in rows],
        "categories": [r.category or "" for r in rows],
        "leaf": np.array(
            [a.get("articleType") or (r.category or "").split(" > ")[-1] for a, r in zip(attrs, rows)], dtype=object
        ),
        "gender": np.array([a.get("gender", "") for a in attrs], dtype=object),
        "colour": np.array(
            [a.get("baseColour") or a.get("colour") or a.get("color") or "" for a in attrs], dtype=object
        ),
        "price": np.array([np.nan if r.price is None else r.price for r in rows], dtype=np.float32),
        "age_days": np.array([age(r.created_at) for r in rows], dtype=np.float32),
    }
