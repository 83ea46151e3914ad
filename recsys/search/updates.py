"""Live edits applied to a serving state: a burst of edits coalesced, the items re-encoded or dropped, and a new
state built from the old one (searches keep reading the old one until it is published).

Each application re-reads the item table and rebuilds BM25: O(catalog), which is why bursts are coalesced.
"""

from __future__ import annotations

import numpy as np

from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.encoders import FUSED, MultimodalEncoder
from recsys.index.lexical import BM25Index
from recsys.search.index_mirror import mirror_rows
from recsys.search.indexing import encode_and_store
from recsys.search.state import ServingState, serving_state
from recsys.search.table import ItemTable, load_item_table


def lexical_index(table: ItemTable) -> BM25Index:
    lexical = BM25Index()
    lexical.build(table.ids, table.lexical_texts())
    return lexical


def updated_state(
    catalog: CatalogStore,
    settings: Settings,
    old: ServingState,
    encoder: MultimodalEncoder,
    kind: str,
    item_ids: list[int],
) -> ServingState:
    """``old`` with the items re-encoded (upsert) or dropped (delete), against a fresh table read."""
    fresh_ids = np.zeros(0, np.int64)
    fresh: dict[str, np.ndarray] = {}
    if kind == "upsert":
        fresh_ids, fresh = encode_and_store(
            catalog, encoder, item_ids, batch_size=settings.encode_batch_size, content_changed=True
        )
    with catalog.sessions() as session:
        table = load_item_table(session)
    # An item may have been deleted between its encoding and this table read: drop it here.
    present = np.isin(fresh_ids, table.ids)
    fresh_ids = fresh_ids[present]
    fresh = {route: vectors[present] for route, vectors in fresh.items()}
    routes = {}
    for route, matrix in old.routes.items():
        new = np.zeros((len(table), matrix.shape[1]), np.float32)
        keep = np.isin(old.table.ids, table.ids)
        new[table.rows(old.table.ids[keep])] = matrix[keep]
        if len(fresh_ids):
            new[table.rows(fresh_ids)] = fresh[route]
        routes[route] = new
    vectors = old.vectors.copy()
    gone = np.setdiff1d(vectors.ids(), table.ids)
    if len(gone):
        vectors.remove(gone)
    if len(fresh_ids):
        vectors.add(fresh_ids, fresh[FUSED])
    if old.backend is not None:
        # The engine is live, shared with the old state: its searches drop ids their table lacks (recall).
        removed = np.setdiff1d(old.table.ids, table.ids)
        if len(removed):
            old.backend.delete(removed)
        if len(fresh_ids):
            mirror_rows(table, routes[FUSED], table.rows(fresh_ids), old.backend)
    return serving_state(old.model_version, vectors, lexical_index(table), table, routes, old.backend)


def coalesce(changes: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """A burst of edits as one application: the upserted ids (ids deleted since are skipped by the encoder and
    dropped by the table read), or, when nothing was upserted, the deleted ones."""
    upserted = sorted({i for kind, ids in changes if kind == "upsert" for i in ids})
    if upserted:
        return [("upsert", upserted)]
    deleted = sorted({i for _, ids in changes for i in ids})
    return [("delete", deleted)] if deleted else []
