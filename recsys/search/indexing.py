"""Encoding catalog items into stored route vectors (one row per item, model version and route).

Vectors live in the catalog database (``item_embeddings``), so a restart or an index rebuild re-encodes nothing;
only items without vectors for the active model version are encoded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from recsys.catalog import repository as repo
from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.encoders import FUSED, ITEM_ROUTES, ItemContent, MultimodalEncoder
from recsys.encoders.bulk_features import BulkFeatures
from recsys.encoders.ray_batch import encode_on_ray
from recsys.progress import Progress
from recsys.search.route_matrices import ROUTE_DTYPE

log = logging.getLogger(__name__)


def item_contents(catalog: CatalogStore, item_ids: Sequence[int]) -> tuple[list[int], list[ItemContent]]:
    """(ids found, their contents) in input order; deleted items are skipped."""
    views = catalog.get_items(item_ids)
    found, contents = [], []
    for item_id in item_ids:
        view = views.get(int(item_id))
        if view is None:
            continue
        found.append(int(item_id))
        loaded = [(_open_rgb(img.path), Path(img.path).stem) for img in view.images[:4]]
        opened = [(image, key) for image, key in loaded if image is not None]
        contents.append(
            ItemContent(
                external_id=view.external_id,
                title=view.title,
                description=view.description,
                category=view.category,
                attributes={k: str(v) for k, v in view.attributes.items()},
                reviews=[f"{r.title}. {r.text}" if r.title else r.text for r in view.reviews],
                images=[image for image, _ in opened],
                image_keys=[key for _, key in opened],
            )
        )
    return found, contents


def _open_rgb(path: Path) -> Image.Image | None:
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except OSError:
        log.warning("image %s could not be read; encoding the item without it", path)
        return None


def encode_and_store(
    catalog: CatalogStore,
    encoder: MultimodalEncoder,
    item_ids: Sequence[int],
    *,
    batch_size: int = 64,
    progress: Progress | None = None,
    content_changed: bool = False,
    features: BulkFeatures | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Encode the items' routes and store them under ``encoder.version``.

    ``content_changed`` (live edits): also drop the items' vectors of other versions, which are now stale.
    ``features`` (bulk work): tower outputs from the on-disk feature caches (``encoder.bulk_features``).
    Returns (ids encoded, route -> vectors) so the caller can update its in-memory state without re-reading.
    With ``RECSYS_RAY_ADDRESS`` set, ``ray_min_items`` items or more run as a Ray job (``encode_and_store_ray``;
    the actors compute tower outputs, so ``features`` is not used there).
    """
    settings = catalog.settings
    if settings.ray_address and len(item_ids) >= max(settings.ray_min_items, 1):
        return encode_and_store_ray(
            catalog, encoder, item_ids, batch_size=batch_size, progress=progress, content_changed=content_changed
        )
    ids = [int(i) for i in item_ids]
    done_ids: list[int] = []
    parts: dict[str, list[np.ndarray]] = {route: [] for route in ITEM_ROUTES}
    for start in range(0, len(ids), batch_size):
        present, contents = item_contents(catalog, ids[start : start + batch_size])
        if not contents:
            continue
        present, routes = store_routes(
            catalog, encoder.version, present, encoder.encode_items(contents, features), content_changed
        )
        for route in ITEM_ROUTES:
            parts[route].append(routes[route])
        done_ids += present
        if progress:
            progress(start + len(present), len(ids), "encoding items")
    dims = encoder.dims
    vectors = {
        route: np.concatenate(parts[route]) if parts[route] else np.zeros((0, dims[route]), np.float32)
        for route in ITEM_ROUTES
    }
    return np.asarray(done_ids, dtype=np.int64), vectors


class CatalogReader:
    """``item_contents`` for a Ray actor: pickled without a connection, it opens its own catalog where it runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._catalog: CatalogStore | None = None

    def __call__(self, item_ids: list[int]) -> tuple[list[int], list[ItemContent]]:
        if self._catalog is None:
            self._catalog = CatalogStore(self.settings)
        return item_contents(self._catalog, item_ids)


def encode_and_store_ray(
    catalog: CatalogStore,
    encoder: MultimodalEncoder,
    item_ids: Sequence[int],
    *,
    build: Callable[[], MultimodalEncoder] | None = None,
    batch_size: int = 64,
    progress: Progress | None = None,
    content_changed: bool = False,
    actors: int | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``encode_and_store`` as a Ray Data job at ``catalog.settings.ray_address``: the same rows, the same return.

    ``build`` makes each actor's encoder (default: a copy of ``encoder``, pickled to the actor); on GPU nodes pass
    one that loads the model there, e.g. ``functools.partial(create_encoder, settings)``. It must make vectors of
    ``encoder.version``. Batches are stored by this process as they arrive, as the in-process path stores them."""
    ids = [int(i) for i in item_ids]
    done: list[int] = []
    parts: dict[str, list[np.ndarray]] = {route: [] for route in ITEM_ROUTES}
    jobs = encode_on_ray(
        ids,
        CatalogReader(catalog.settings),
        build or (lambda: encoder),
        catalog.settings.ray_address,
        batch_size=batch_size,
        actors=actors,
    )
    for present, routes in jobs:
        present, routes = store_routes(catalog, encoder.version, present, routes, content_changed)
        done += present
        for route in ITEM_ROUTES:
            parts[route].append(routes[route])
        if progress:
            progress(len(done), len(ids), "encoding items on Ray")
    position = {item_id: n for n, item_id in enumerate(ids)}
    order = np.argsort([position[i] for i in done], kind="stable") if done else np.zeros(0, np.int64)  # input order
    dims = encoder.dims
    vectors = {
        route: np.concatenate(parts[route])[order] if parts[route] else np.zeros((0, dims[route]), np.float32)
        for route in ITEM_ROUTES
    }
    return np.asarray(done, dtype=np.int64)[order], vectors


def store_routes(
    catalog: CatalogStore, version: str, present: list[int], routes: dict[str, np.ndarray], content_changed: bool
) -> tuple[list[int], dict[str, np.ndarray]]:
    """Save one encoded batch under ``version``; returns the ids and vectors kept (items still in the catalog)."""
    with catalog.sessions.begin() as session:
        # An item deleted while it was encoded: its vectors would break the foreign key, so they are dropped.
        alive = np.isin(present, repo.existing_item_ids(session, present))
        if not alive.all():
            present = [i for i, keep in zip(present, alive) if keep]
            routes = {route: vectors[alive] for route, vectors in routes.items()}
        if content_changed:
            repo.drop_other_versions(session, version, present)
        for route in ITEM_ROUTES:
            repo.save_embeddings(session, version, route, present, routes[route])
    return present, routes


def missing_item_ids(catalog: CatalogStore, version: str) -> list[int]:
    with catalog.sessions() as session:
        return repo.items_missing_embeddings(session, version, FUSED)


def load_route_matrix(catalog: CatalogStore, version: str, route: str, table_ids: np.ndarray, dim: int) -> np.ndarray:
    """The route's vectors aligned with ``table_ids`` (zeros for items without a stored vector), as ``ROUTE_DTYPE``."""
    return read_route(catalog, version, route, table_ids, dim)[0]


def read_route(
    catalog: CatalogStore, version: str, route: str, table_ids: np.ndarray, dim: int
) -> tuple[np.ndarray, np.ndarray]:
    """``load_route_matrix`` and which items had a stored row (bool per row; a stored row may be all zeros).

    Filled batch by batch from the stream: the peak is this matrix plus one batch, at any catalog size. All-zero
    rows (content missing, e.g. no reviews) are not written: their pages of the zeroed matrix are then never
    touched and take no memory until something copies the matrix."""
    out = np.zeros((len(table_ids), dim), dtype=ROUTE_DTYPE)
    present = np.zeros(len(table_ids), bool)
    if not len(table_ids):
        return out, present
    with catalog.sessions() as session:
        for ids, vectors in repo.iter_embeddings(session, version, route, ordered=False):
            rows = np.searchsorted(table_ids, ids)
            ok = (rows < len(table_ids)) & (table_ids[np.minimum(rows, len(table_ids) - 1)] == ids)
            present[rows[ok]] = True
            ok &= np.any(vectors != 0, axis=1)
            out[rows[ok]] = vectors[ok]
    return out, present
