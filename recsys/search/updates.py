"""Live edits applied to a serving state: a burst of edits coalesced, the items re-encoded or dropped, and a new
state built from the old one (searches keep reading the old one until it is published).

Segmented (``Settings.segmented_index``, the default): an application reads only the edited items' rows, builds
one small delta segment of each index from them and tombstones their old rows (``segmented_vectors``,
``segmented_lexical``); the table and route matrices are spliced by rows (``table_splice``). Its cost follows the
edit, not the catalog; the background merge (``segment_merge``) folds the deltas into the base.
Rebuilt (the setting off): the whole item table is re-read and BM25 rebuilt, O(catalog).
"""

from __future__ import annotations

import numpy as np

from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.encoders import FUSED, MultimodalEncoder
from recsys.index.lexical import BM25Index
from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.segmented_vectors import SegmentedVectorIndex
from recsys.index.vector import VectorIndex
from recsys.search.index_mirror import mirror_rows
from recsys.search.indexing import encode_and_store
from recsys.search.route_matrices import STORED_ROUTES, RouteMatrices
from recsys.search.state import ServingState, serving_state
from recsys.search.table import ItemTable, load_item_table
from recsys.search.table_splice import edited_rows, splice, spliced_table


def lexical_index(table: ItemTable, segmented: bool = True) -> BM25Index | SegmentedBM25:
    """BM25 over the table's lexical texts: one base segment (segmented), or a bm25s ``BM25Index``."""
    if segmented:
        return SegmentedBM25.build(table.ids, table.lexical_texts())
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
    """``old`` with the items re-encoded (upsert) or dropped (delete)."""
    if settings.segmented_index and isinstance(old.lexical, SegmentedBM25):
        return segmented_state(catalog, settings, old, encoder, kind, item_ids)
    return rebuilt_state(catalog, settings, old, encoder, kind, item_ids)


def segmented_state(
    catalog: CatalogStore,
    settings: Settings,
    old: ServingState,
    encoder: MultimodalEncoder,
    kind: str,
    item_ids: list[int],
) -> ServingState:
    """``old`` with the edit as delta segments: only the edited items are read from the catalog and encoded."""
    assert isinstance(old.lexical, SegmentedBM25)
    touched = np.unique(np.asarray(item_ids, np.int64))
    fresh_ids, fresh = _encoded(catalog, settings, encoder, kind, item_ids)
    part = edited_rows(catalog, fresh_ids, old.table)  # read after encoding: an item deleted meanwhile is left out
    keep = np.isin(fresh_ids, part.ids)
    order = np.argsort(fresh_ids[keep])
    vectors_of = {route: matrix[keep][order] for route, matrix in fresh.items()}
    removed = np.setdiff1d(touched, part.ids)  # deleted items, and upserted ones gone before their row was read
    removed = removed[np.isin(removed, old.table.ids)]
    table = spliced_table(old.table, removed, part)
    # The edited rows as the served matrices hold them (half precision); their fused rows derived from those, so a
    # delta segment holds what a rebuild from the catalog would.
    part_routes = RouteMatrices(
        {r: vectors_of.get(r, np.zeros((len(part), old.routes.dim(r)), np.float32)) for r in STORED_ROUTES},
        old.routes.weights,
    )
    _, spliced = splice(old.table.ids, old.routes.stored, removed, part.ids, part_routes.stored)
    routes = RouteMatrices(spliced, old.routes.weights)
    fused = part_routes.rows(FUSED, slice(None))
    segmented = as_segmented(old.vectors)
    add = np.abs(fused).sum(axis=1) > 0 if len(part) else np.zeros(0, bool)
    vectors = segmented.edited(part.ids[add], fused[add], np.union1d(removed, part.ids[~add]))
    lexical = old.lexical.edited(part.ids, part.lexical_texts(), removed)
    if old.backend is not None:
        if removed.size:
            old.backend.delete(removed)
        if len(part):
            mirror_rows(part, np.arange(len(part)), fused, old.backend)
    return serving_state(old.model_version, vectors, lexical, table, routes, old.backend, old.generation)


def _encoded(
    catalog: CatalogStore, settings: Settings, encoder: MultimodalEncoder, kind: str, item_ids: list[int]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(ids, route -> vectors) of the upserted items, encoded and stored; nothing for a delete."""
    if kind != "upsert":
        return np.zeros(0, np.int64), {}
    return encode_and_store(catalog, encoder, item_ids, batch_size=settings.encode_batch_size, content_changed=True)


def as_segmented(vectors: VectorIndex | SegmentedVectorIndex) -> SegmentedVectorIndex:
    """A published ``VectorIndex`` as the base segment (shared, not copied: published indexes are never edited)."""
    return vectors if isinstance(vectors, SegmentedVectorIndex) else SegmentedVectorIndex([vectors])


def rebuilt_state(
    catalog: CatalogStore,
    settings: Settings,
    old: ServingState,
    encoder: MultimodalEncoder,
    kind: str,
    item_ids: list[int],
) -> ServingState:
    """``old`` with the items re-encoded (upsert) or dropped (delete), against a fresh read of the whole table."""
    fresh_ids, fresh = _encoded(catalog, settings, encoder, kind, item_ids)
    with catalog.sessions() as session:
        table = load_item_table(session)
    # An item may have been deleted between its encoding and this table read: drop it here.
    present = np.isin(fresh_ids, table.ids)
    fresh_ids = fresh_ids[present]
    fresh = {route: vectors[present] for route, vectors in fresh.items()}
    stored = {}
    for route, matrix in old.routes.stored.items():
        new = np.zeros((len(table), matrix.shape[1]), matrix.dtype)
        keep = np.isin(old.table.ids, table.ids)
        new[table.rows(old.table.ids[keep])] = matrix[keep]
        if len(fresh_ids):
            new[table.rows(fresh_ids)] = fresh[route]
        stored[route] = new
    routes = RouteMatrices(stored, old.routes.weights)
    vectors = old.vectors.copy() if isinstance(old.vectors, VectorIndex) else old.vectors.merged().base.copy()
    gone = np.setdiff1d(vectors.ids(), table.ids)
    if len(gone):
        vectors.remove(gone)
    if len(fresh_ids):
        vectors.add(fresh_ids, routes.rows(FUSED, table.rows(fresh_ids)))
    if old.backend is not None:
        # The engine is live, shared with the old state: its searches drop ids their table lacks (recall).
        removed = np.setdiff1d(old.table.ids, table.ids)
        if len(removed):
            old.backend.delete(removed)
        if len(fresh_ids):
            fresh_rows = table.rows(fresh_ids)
            mirror_rows(table, fresh_rows, routes.rows(FUSED, fresh_rows), old.backend)
    lexical = lexical_index(table, segmented=False)
    return serving_state(old.model_version, vectors, lexical, table, routes, old.backend, old.generation)


def coalesce(changes: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """A burst of edits as few applications: the ids deleted and not upserted since, then the upserted ids (ids
    deleted after their upsert are skipped by the encoder and left out by the row read)."""
    upserted = sorted({i for kind, ids in changes if kind == "upsert" for i in ids})
    deleted = sorted({i for kind, ids in changes if kind == "delete" for i in ids} - set(upserted))
    out = [("delete", deleted)] if deleted else []
    return out + ([("upsert", upserted)] if upserted else [])
