"""Search filters applied at recall time, and facet counts over the matching items."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

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
