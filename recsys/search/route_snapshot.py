"""The serving state's route matrices saved beside the vector index, so a restart does not re-read the catalog.

Reading the four stored routes back from the database is a million rows per route at 1M items (50 s of a 100 s
restart). A complete build saves them here as ``.npy`` files (float16, as served) with the embedding generation they
were read at (``models.EmbeddingGeneration``); a restart memory-maps them, copies their non-zero rows into the served
matrices (``nonzero`` masks saved beside them: as with a read from the catalog, rows of absent content such as an
item without reviews stay untouched zero pages and take no memory), re-reads only the rows written after that
generation, and drops the rows of deleted items. The maps are read-only and dropped after the copy: a search never
faults pages in from the file.

The saved copy is only a cache of the database: a count per route (rows stored against rows held) catches what the
generation cannot see (vectors deleted without a write, e.g. another version's dropped rows), and any doubt means a
full read, never a stale row. Layout in ``directory`` (``store.save_directory``: atomic, checksummed)::

    ids.npy                  item ids, ascending (the rows' order)
    <route>.npy              [n, d] float16 vectors of one stored route
    <route>.present.npy      [n] bool: the item had a stored row for that route (zeros are vectors too)
    <route>.nonzero.npy      [n] bool: that row is not all zeros
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recsys.catalog import repository as repo
from recsys.catalog.store import CatalogStore
from recsys.encoders.fusion import FusionWeights
from recsys.index.store import load_directory, save_directory
from recsys.search.indexing import read_route
from recsys.search.route_matrices import ROUTE_DTYPE, STORED_ROUTES, RouteMatrices

log = logging.getLogger(__name__)
KIND = "route-matrices"
RESAVE_SHARE = 0.1  # re-save after a restart that patched more than this share of the rows (later restarts read less)
COPY_ROWS = 65_536  # rows copied from a map at a time (a bounded temporary)


@dataclass(frozen=True)
class Generation:
    """Where a read of the catalog's vectors stands: which database, and its newest committed embedding generation."""

    catalog_id: str
    value: int

    def manifest(self) -> dict:
        return {"catalog": self.catalog_id, "generation": self.value}


@dataclass(frozen=True)
class RouteRead:
    """Route matrices aligned with a table's ids, and what saving them needs."""

    routes: RouteMatrices
    present: dict[str, np.ndarray]  # route -> bool per row: a row was stored for that item
    generation: Generation  # every row written at or before it is in ``routes``
    patched: int  # rows re-read on top of a saved copy; -1: read in full from the catalog

    @property
    def worth_saving(self) -> bool:
        return self.patched < 0 or self.patched > RESAVE_SHARE * max(1, self.routes.n)


def read_routes(
    catalog: CatalogStore,
    version: str,
    table_ids: np.ndarray,
    dims: Mapping[str, int],
    weights: FusionWeights,
    generation: Generation,
    directory: Path | None = None,
) -> RouteRead:
    """The stored routes of ``version`` aligned with ``table_ids``: from the copy saved in ``directory`` plus the rows
    written since, else in full from the catalog. ``generation`` must be read (``current_generation``) before the
    table whose ids these are: every row of that table's items written at or before it is then in the copy or read."""
    if directory is not None:
        saved = _load(directory, version, dims, generation.catalog_id)
        if saved is not None:
            patched = _patched(catalog, version, saved, table_ids, weights, generation)
            if patched is not None:
                return patched
    stored, present = {}, {}
    for route in STORED_ROUTES:
        stored[route], present[route] = read_route(catalog, version, route, table_ids, dims[route])
    return RouteRead(RouteMatrices(stored, weights), present, generation, -1)


def current_generation(catalog: CatalogStore) -> Generation:
    with catalog.sessions() as session:
        return Generation(repo.catalog_identity(session), repo.embedding_generation(session))


def save_routes(directory: Path, version: str, table_ids: np.ndarray, read: RouteRead) -> None:
    """Write ``read`` as the saved copy for ``version`` (replacing the previous one atomically)."""

    def write(folder: Path) -> None:
        np.save(folder / "ids.npy", np.asarray(table_ids, np.int64))
        for route in STORED_ROUTES:
            np.save(folder / f"{route}.npy", np.asarray(read.routes.stored[route], ROUTE_DTYPE))
            np.save(folder / f"{route}.present.npy", read.present[route])
            np.save(folder / f"{route}.nonzero.npy", _nonzero_rows(read.routes.stored[route]))

    dims = {r: int(read.routes.stored[r].shape[1]) for r in STORED_ROUTES}
    manifest = {"kind": KIND, "model_version": version, "count": len(table_ids), **read.generation.manifest()}
    save_directory(directory, write, {**manifest, "dims": dims})
    log.info("saved the route matrices of %d items (%s) to %s", len(table_ids), read.generation, directory)


@dataclass(frozen=True)
class _Saved:
    ids: np.ndarray
    stored: dict[str, np.ndarray]  # read-only maps of the files
    present: dict[str, np.ndarray]
    nonzero: dict[str, np.ndarray]
    generation: int


def _load(directory: Path, version: str, dims: Mapping[str, int], catalog_id: str) -> _Saved | None:
    expect = {"kind": KIND, "model_version": version, "catalog": catalog_id}
    found = load_directory(directory, expect=expect, verify="size")
    if found is None:
        return None
    folder, manifest = found
    try:
        ids = np.load(folder / "ids.npy")
        stored = {r: np.load(folder / f"{r}.npy", mmap_mode="r") for r in STORED_ROUTES}
        present = {r: np.load(folder / f"{r}.present.npy") for r in STORED_ROUTES}
        nonzero = {r: np.load(folder / f"{r}.nonzero.npy") for r in STORED_ROUTES}
    except (OSError, ValueError) as exc:
        log.warning("saved route matrices in %s are unreadable: %s", directory, exc)
        return None
    shapes_ok = all(
        stored[r].shape == (len(ids), dims[r]) and present[r].shape == nonzero[r].shape == (len(ids),)
        for r in STORED_ROUTES
    )
    if not shapes_ok or len(ids) != manifest.get("count"):
        log.warning("saved route matrices in %s do not match this encoder's routes", directory)
        return None
    return _Saved(ids, stored, present, nonzero, int(manifest["generation"]))


def _patched(
    catalog: CatalogStore,
    version: str,
    saved: _Saved,
    table_ids: np.ndarray,
    weights: FusionWeights,
    generation: Generation,
) -> RouteRead | None:
    """``saved`` aligned with ``table_ids`` with the rows written since patched in; None when the counts disagree."""
    if saved.generation > generation.value:
        log.warning("saved route matrices are of generation %d, the catalog of %d", saved.generation, generation.value)
        return None
    stored, present = _aligned(saved, table_ids)
    patched = 0
    with catalog.sessions() as session:
        for route in STORED_ROUTES:
            for ids, vectors in repo.iter_embeddings(
                session, version, route, after_generation=saved.generation, ordered=False
            ):
                rows = np.searchsorted(table_ids, ids)
                ok = (rows < len(table_ids)) & (table_ids[np.minimum(rows, len(table_ids) - 1)] == ids)
                stored[route][rows[ok]] = vectors[ok]  # zeros too: they replace the saved row
                present[route][rows[ok]] = True
                patched += int(ok.sum())
            held, counted = int(present[route].sum()), repo.count_embeddings(session, version, route)
            if held != counted:
                log.info("saved route %s holds %d rows, the catalog %d: reading it in full", route, held, counted)
                return None
    log.info("route matrices from the saved copy (generation %d): %d rows re-read", saved.generation, patched)
    return RouteRead(RouteMatrices(stored, weights), present, generation, patched)


def _aligned(saved: _Saved, table_ids: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The saved rows of the items in ``table_ids``, in its order (new items start as zeros, not present)."""
    if np.array_equal(saved.ids, table_ids):
        source = target = np.arange(len(table_ids))
    else:
        rows = np.searchsorted(saved.ids, table_ids)
        both = (rows < len(saved.ids)) & (saved.ids[np.minimum(rows, len(saved.ids) - 1)] == table_ids)
        source, target = rows[both], np.flatnonzero(both)
    stored, present = {}, {}
    for route in STORED_ROUTES:
        matrix = saved.stored[route]
        stored[route] = np.zeros((len(table_ids), matrix.shape[1]), ROUTE_DTYPE)
        copy = saved.nonzero[route][source]
        for start in range(0, len(source), COPY_ROWS):
            block = slice(start, start + COPY_ROWS)
            src, dst, rows = source[block], target[block], copy[block]
            if rows.all() and src[-1] - src[0] == dst[-1] - dst[0] == len(src) - 1:  # one run: a plain copy
                stored[route][dst[0] : dst[-1] + 1] = matrix[src[0] : src[-1] + 1]
            elif rows.any():
                stored[route][dst[rows]] = matrix[src[rows]]
        present[route] = np.zeros(len(table_ids), bool)
        present[route][target] = saved.present[route][source]
    return stored, present


def _nonzero_rows(matrix: np.ndarray) -> np.ndarray:
    out = np.zeros(len(matrix), bool)
    for start in range(0, len(matrix), COPY_ROWS):
        out[start : start + COPY_ROWS] = np.any(matrix[start : start + COPY_ROWS] != 0, axis=1)
    return out
