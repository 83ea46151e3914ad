"""A serving state's items in an ``IndexBackend`` (e.g. Qdrant), and search filters as its payload filters.

The bridge for ``RECSYS_INDEX_BACKEND``: the item table's lexical texts, fused vectors and facet columns become the
backend's items, and ``SearchFilters`` its ``PayloadFilter`` with the same meaning as ``filters.filter_mask`` (any of
the listed categories/genders/colours, price bounds inclusive, an unknown price failing any bound).
"""

from __future__ import annotations

import numpy as np

from recsys.encoders import FUSED
from recsys.index.backend import IndexBackend, PayloadFilter
from recsys.search.filters import SearchFilters
from recsys.search.state import ServingState
from recsys.search.table import ItemTable

BATCH = 1000  # items per write: a Qdrant upsert request stays small


def item_payloads(table: ItemTable) -> list[dict[str, str | float]]:
    """Each item's filterable fields, under the names ``payload_filter`` uses (an unknown price is left out)."""
    out: list[dict[str, str | float]] = []
    for leaf, gender, colour, price in zip(table.leaf, table.gender, table.colour, table.price):
        payload: dict[str, str | float] = {"category": str(leaf), "gender": str(gender), "colour": str(colour)}
        if not np.isnan(price):
            payload["price"] = float(price)
        out.append(payload)
    return out


def payload_filter(filters: SearchFilters) -> PayloadFilter | None:
    if not filters.active:
        return None
    match = {
        name: list(values)
        for name, values in (("category", filters.category), ("gender", filters.gender), ("colour", filters.colour))
        if values
    }
    bounded = filters.min_price is not None or filters.max_price is not None
    ranges = {"price": (filters.min_price, filters.max_price)} if bounded else {}
    return PayloadFilter(match=match, ranges=ranges)


def mirror_state(state: ServingState, backend: IndexBackend) -> int:
    """Write the encoded items of ``state`` (fused vector, lexical text, payload) to ``backend``; returns how many.

    Items without a fused vector yet (a zero row: still being encoded) are left out, as from the served vector index."""
    table = state.table
    texts, payloads, vectors = table.lexical_texts(), item_payloads(table), state.routes[FUSED]
    rows = np.flatnonzero(np.abs(vectors).sum(axis=1) > 0)
    for start in range(0, rows.size, BATCH):
        part = rows[start : start + BATCH]
        backend.add(table.ids[part], vectors[part], [texts[r] for r in part], [payloads[r] for r in part])
    return int(rows.size)
