"""Live edits applied to the item table and the route matrices by rows: the edited items' rows read from the
catalog and spliced in, every other row kept as it was (no re-read of the whole table).

Appended rows (new items: ids above every served one) go into spare rows at the end of the array columns
(``append_rows``: amortised O(edit); a published state's view never reaches them). An update or a delete copies
the columns (a memory copy, linear in the catalog but with a small constant), since the table and route matrices
are plain arrays the search path indexes by row. Behaviour counts (impressions, clicks) of an
updated item are kept from the served table; a new item has none yet. They are refreshed by the next full build.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import numpy as np

from recsys.catalog.store import CatalogStore
from recsys.catalog.views import ItemView
from recsys.search.table import ItemTable, catalog_columns

Column = np.ndarray | list
SPARE = 1 / 8  # spare rows allocated past the end, as a share of the rows (at least MIN_SPARE)
MIN_SPARE = 1024
_claimed: dict[int, int] = {}  # id(buffer) -> rows of it handed out; only the view ending there may grow
_claim_lock = threading.Lock()


def edited_rows(
    catalog: CatalogStore, item_ids: np.ndarray, served: ItemTable, now: datetime | None = None
) -> ItemTable:
    """The table rows of ``item_ids`` still in the catalog, read from it (by id), derived as ``load_item_table``."""
    views = catalog.get_items([int(i) for i in item_ids])
    found = sorted(views)
    return _rows([views[i] for i in found], served, now or datetime.now(UTC))


def _rows(views: list[ItemView], served: ItemTable, now: datetime) -> ItemTable:
    ids = np.array([v.id for v in views], np.int64)
    rows = np.minimum(served.rows(ids), max(len(served) - 1, 0))
    known = served.ids[rows] == ids if len(served) else np.zeros(ids.size, bool)

    def kept(column: np.ndarray) -> np.ndarray:  # an updated item's behaviour counts, as served
        out = np.zeros(ids.size, np.float32)
        out[known] = column[rows[known]]
        return out

    return ItemTable(
        ids=ids,
        **catalog_columns(views, now),
        rating_sum=np.array([sum(r.rating or 0 for r in v.reviews) for v in views], dtype=np.float32),
        rating_count=np.array([len(v.reviews) for v in views], dtype=np.float32),
        impressions=kept(served.impressions),
        clicks=kept(served.clicks),
        has_image=np.array([bool(v.images) for v in views], dtype=bool),
    )


def splice(
    ids: np.ndarray,
    columns: Mapping[str, Any],
    removed: np.ndarray,
    part_ids: np.ndarray,
    part: Mapping[str, Any],
) -> tuple[np.ndarray, dict[str, Any]]:
    """Rows sorted by ``ids`` with ``removed`` dropped and ``part``'s rows written in (replacing rows of the same
    id, inserting the others in id order). Nothing is edited in place: changed columns are copies."""
    in_old = _member(part_ids, ids)
    drop = np.zeros(ids.size, bool)  # by binary search on the sorted ids: O(edit log catalog), not O(catalog)
    gone = removed[_member(removed, ids) & ~np.isin(removed, part_ids)]
    drop[np.searchsorted(ids, gone)] = True
    out: dict[str, Any] = dict(columns)
    if in_old.any():  # updates: the rows keep their places
        rows, src = np.searchsorted(ids, part_ids[in_old]), np.flatnonzero(in_old)
        for name, column in out.items():
            out[name] = _assign(column, rows, _take(part[name], src))
    if drop.any():
        keep = np.flatnonzero(~drop)
        ids = ids[keep]
        out = {name: _take(column, keep) for name, column in out.items()}
    new = np.flatnonzero(~in_old)
    if new.size:
        ids = np.concatenate([ids, part_ids[new]])
        out = {name: _concat(column, _take(part[name], new)) for name, column in out.items()}
        if ids.size > new.size and part_ids[new].min() < ids[: ids.size - new.size].max():  # not all appended
            order = np.argsort(ids, kind="stable")
            ids = ids[order]
            out = {name: _take(column, order) for name, column in out.items()}
    return ids, out


def spliced_table(served: ItemTable, removed: np.ndarray, part: ItemTable) -> ItemTable:
    names = [f.name for f in fields(ItemTable) if f.name != "ids"]
    ids, columns = splice(
        served.ids, {n: getattr(served, n) for n in names}, removed, part.ids, {n: getattr(part, n) for n in names}
    )
    return ItemTable(ids=ids, **columns)


def _member(wanted: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Which of ``wanted`` are in the sorted ``ids``."""
    if not ids.size or not wanted.size:
        return np.zeros(wanted.size, bool)
    return ids[np.minimum(np.searchsorted(ids, wanted), ids.size - 1)] == wanted


def _take(column: Column, rows: np.ndarray) -> Column:
    if isinstance(column, list):
        return [column[r] for r in rows.tolist()]
    return column[rows]


def _assign(column: Column, rows: np.ndarray, values: Column) -> Column:
    column = list(column) if isinstance(column, list) else column.copy()
    if isinstance(column, list):
        for r, v in zip(rows.tolist(), values):
            column[r] = v
    else:
        column[rows] = values
    return column


def _concat(column: Column, values: Column) -> Column:
    if isinstance(column, list):
        return column + list(values)
    return append_rows(column, np.asarray(values, dtype=column.dtype))


def append_rows(column: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``column`` with ``values`` appended, as a view of a buffer with spare rows: written in place when
    ``column`` is the newest view of its buffer (rows past it are claimed by nobody), else copied into a new one.
    Views handed out earlier end before the written rows, so what they show never changes."""
    n, k = len(column), len(values)
    buffer = column.base
    with _claim_lock:
        if (
            isinstance(buffer, np.ndarray)
            and buffer.dtype == column.dtype
            and buffer.shape[1:] == column.shape[1:]
            and buffer.ctypes.data == column.ctypes.data
            and column.flags.c_contiguous
            and _claimed.get(id(buffer)) == n
            and n + k <= len(buffer)
        ):
            buffer[n : n + k] = values
            _claimed[id(buffer)] = n + k
            return buffer[: n + k]
        buffer = np.empty((n + k + max(MIN_SPARE, int((n + k) * SPARE)), *column.shape[1:]), column.dtype)
        buffer[:n] = column
        buffer[n : n + k] = values
        _claimed[id(buffer)] = n + k
        weakref.finalize(buffer, _claimed.pop, id(buffer), None)
    return buffer[: n + k]
