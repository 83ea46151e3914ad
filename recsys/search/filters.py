"""Search filters applied at recall time, and facet counts over the matching items."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np

from recsys.index.arrays import IdSet
from recsys.search.table import ItemTable

FACETS = ("category", "gender", "colour")


@dataclass(frozen=True)
class SearchFilters:
    category: tuple[str, ...] = ()  # article types (leaf categories), any of
    gender: tuple[str, ...] = ()
    colour: tuple[str, ...] = ()
    min_price: float | None = None
    max_price: float | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.category or self.gender or self.colour or self.min_price is not None or self.max_price is not None
        )


def filter_mask(table: ItemTable, filters: SearchFilters) -> np.ndarray:
    mask = np.ones(len(table), dtype=bool)
    if filters.category:
        mask &= table.value_mask("leaf", filters.category)
    if filters.gender:
        mask &= table.value_mask("gender", filters.gender)
    if filters.colour:
        mask &= table.value_mask("colour", filters.colour)
    if filters.min_price is not None:
        mask &= table.price >= filters.min_price  # NaN prices fail both bounds: unknown price is filtered out
    if filters.max_price is not None:
        mask &= table.price <= filters.max_price
    return mask


def allowed_ids(table: ItemTable, filters: SearchFilters) -> np.ndarray | None:
    """Item ids passing the filters, or None when no filter is active (no restriction)."""
    return table.ids[filter_mask(table, filters)] if filters.active else None


# Distinct filters whose id sets a table keeps: each costs ~9 bytes per allowed item (ids + membership table), so
# at a million items a handful of broad filters stay under ~50 MB.
FILTER_SETS_KEPT = 6


def allowed_id_set(table: ItemTable, filters: SearchFilters) -> IdSet | None:
    """``allowed_ids`` as the ``IdSet`` the indexes read, kept with the table for its most recent filters.

    Making it is O(catalog) (the mask, the id gather, the membership table: ~5 ms at a million items); shoppers
    repeat a few filters (a gender, a type), so a repeated filter costs a lookup, as a payload index would."""
    if not filters.active:
        return None
    kept = table.memo("allowed_id_sets", lambda: RecentSets(FILTER_SETS_KEPT))
    found = kept.get(filters)
    if found is None:
        found = kept.put(filters, IdSet(table.ids[filter_mask(table, filters)]))
    return found


class RecentSets:
    """The last ``size`` (filters -> IdSet) pairs, least recently used dropped first; safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._sets: OrderedDict[SearchFilters, IdSet] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, filters: SearchFilters) -> IdSet | None:
        with self._lock:
            found = self._sets.get(filters)
            if found is not None:
                self._sets.move_to_end(filters)
            return found

    def put(self, filters: SearchFilters, ids: IdSet) -> IdSet:
        with self._lock:
            kept = self._sets.setdefault(filters, ids)  # a concurrent maker's set wins: one object per filter
            self._sets.move_to_end(filters)
            while len(self._sets) > self.size:
                self._sets.popitem(last=False)
            return kept


@dataclass(frozen=True)
class Facets:
    counts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def facet_counts(table: ItemTable, rows: np.ndarray, top: int = 30) -> Facets:
    """Value counts of each facet over the given table rows (e.g. the recalled candidates)."""
    columns = {"category": table.leaf, "gender": table.gender, "colour": table.colour}
    counts = {}
    for name in FACETS:
        values = Counter(v for v in columns[name][rows] if v)
        counts[name] = values.most_common(top)
    return Facets(counts)
