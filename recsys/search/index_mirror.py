"""A serving state's items in an ``IndexBackend`` (e.g. Qdrant), and search filters as its payload filters.

The bridge for ``RECSYS_INDEX_BACKEND``: the item table's lexical texts, fused vectors and facet columns become the
backend's items, and ``SearchFilters`` its ``PayloadFilter`` with the same meaning as ``filters.filter_mask`` (any of
the listed categories/genders/colours, price bounds inclusive, an unknown price failing any bound).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace

import numpy as np

from recsys.config import Settings
from recsys.encoders import FUSED
from recsys.index.backend import IndexBackend, PayloadFilter
from recsys.index.engines import make_backend
from recsys.search.filters import SearchFilters
from recsys.search.state import ServingState
from recsys.search.table import ItemTable

log = logging.getLogger(__name__)
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
    return mirror_rows(state.table, np.arange(len(state.table)), state.routes[FUSED], backend)


def mirror_rows(table: ItemTable, rows: np.ndarray, fused: np.ndarray, backend: IndexBackend) -> int:
    """Write the items at table ``rows`` to ``backend``, ``fused`` their fused vectors ([len(rows), d], one per row;
    a zero row, not encoded yet, is left out); returns how many were written."""
    rows = np.asarray(rows, np.int64)
    fused = np.asarray(fused, np.float32)
    keep = np.abs(fused).sum(axis=1) > 0
    rows, fused = rows[keep], fused[keep]
    texts, payloads = table.lexical_texts(), item_payloads(table)
    for start in range(0, rows.size, BATCH):
        part, vectors = rows[start : start + BATCH], fused[start : start + BATCH]
        backend.add(table.ids[part], vectors, [texts[r] for r in part], [payloads[r] for r in part])
    return int(rows.size)


def collection_name(model_version: str) -> str:
    """One collection per model version: a switch fills the new model's while the old one's keeps serving."""
    return "items-" + re.sub(r"[^A-Za-z0-9_-]", "_", model_version)


def with_backend(state: ServingState, settings: Settings) -> ServingState:
    """``state`` with its items mirrored into the engine ``settings.index_backend`` names, when that is not the
    embedded one (``faiss``: ``state`` unchanged, served by its own FAISS + BM25)."""
    if settings.index_backend == "faiss":
        return state
    start = time.perf_counter()
    name = collection_name(state.model_version)
    backend = make_backend(settings, state.routes.dim(FUSED), name)
    count = mirror_state(state, backend)
    log.info(
        "search recall served by %s (collection %s): %d items written in %.1f s",
        settings.index_backend,
        name,
        count,
        time.perf_counter() - start,
    )
    return replace(state, backend=backend)
