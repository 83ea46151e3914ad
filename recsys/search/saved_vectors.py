"""The saved vector base at a (re)start: loaded and brought up to date with the catalog instead of rebuilt.

A base is saved by a full build and by every segment merge, with the embedding generation its state was read at
(``ServingState.generation``). Edits after that save lived in delta segments that are not saved, so the base alone
is behind the catalog. Loading it, the items written since (by generation), added or deleted are removed and re-added
from the route matrices, as a delta would have held them; an IVF base is not retrained for that. Far behind (more
than ``CATCH_UP_SHARE`` of the items), it is rebuilt instead: the coarse quantiser was trained on other data.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from recsys.catalog import repository as repo
from recsys.catalog.store import CatalogStore
from recsys.encoders.routes import FUSED
from recsys.index.vector import VectorIndex
from recsys.search.route_matrices import RouteMatrices
from recsys.search.route_snapshot import Generation
from recsys.search.table import ItemTable

log = logging.getLogger(__name__)
CATCH_UP_SHARE = 0.2


def load_vectors(
    catalog: CatalogStore,
    directory: Path,
    version: str,
    factory: str,
    table: ItemTable,
    routes: RouteMatrices,
    generation: Generation,
) -> VectorIndex | None:
    """The saved base for ``version`` caught up with ``table`` and ``routes`` (read at ``generation``); None when
    there is none or it is better rebuilt."""
    loaded = VectorIndex.load(directory, expect={"model_version": version, "factory": factory})
    if loaded is None:
        return None
    saved, held = loaded.manifest.get("generation"), loaded.ids()
    if saved is None:  # saved before generations were kept: only a base with the catalog's very ids is used
        return loaded if np.array_equal(held, table.ids) else None
    if loaded.manifest.get("catalog") != generation.catalog_id or int(saved) > generation.value:
        log.info("saved vector base is of another catalog or newer than it: rebuilding it")
        return None
    with catalog.sessions() as session:
        rewritten = repo.embedding_ids_after(session, version, FUSED, int(saved))
    gone = np.setdiff1d(held, table.ids)
    fresh = np.union1d(np.setdiff1d(table.ids, held), np.intersect1d(rewritten, table.ids))
    if len(gone) + len(fresh) > CATCH_UP_SHARE * max(1, len(table)):
        log.info("saved vector base is %d edits behind %d items: rebuilding it", len(gone) + len(fresh), len(table))
        return None
    if len(gone):
        loaded.remove(gone)
    if len(fresh):
        loaded.add(fresh, routes.rows(FUSED, table.rows(fresh)))
    log.info("saved vector base caught up: %d items re-added, %d removed", len(fresh), len(gone))
    return loaded
