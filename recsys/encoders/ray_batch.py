"""Bulk encoding as a Ray Data job: item ids in, route vectors out, encoded by a pool of encoder actors.

``Settings.ray_address`` (``RECSYS_RAY_ADDRESS``) picks where: ``local`` starts a Ray in this machine, ``ray://host:port``
joins a cluster (each node then needs this package, the catalog database, e.g. Postgres, and the image folder). An
empty address means in-process encoding (``recsys.search.indexing.encode_and_store``); this module is not used.

Each actor builds its own encoder (``build``, run in the actor, so ``device="auto"`` picks that actor's GPU) and reads
its items itself (``read``, e.g. a catalog reader that opens its own database connection), so neither images nor
weights flow through the driver. The driver receives vectors only; storing them stays with the caller. Actors take
half a CPU: with whole CPUs on a 2-core machine the actors hold every core and the dataset's read task starves.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType

import numpy as np

from recsys.encoders.content import ItemContent
from recsys.encoders.multimodal import MultimodalEncoder
from recsys.encoders.routes import ITEM_ROUTES

log = logging.getLogger(__name__)

Reader = Callable[[list[int]], tuple[list[int], list[ItemContent]]]  # ids -> (ids found, their contents)
ACTOR_CPUS = 0.5


def _ray() -> ModuleType:
    # Imported on use: Ray is an optional, heavy dependency (requirements-dev.txt), not needed to serve.
    try:
        importlib.import_module("ray.data")  # makes ray.data an attribute of ray
        return importlib.import_module("ray")
    except ImportError as exc:
        raise RuntimeError("RECSYS_RAY_ADDRESS is set but Ray is not installed: pip install 'ray[data]'") from exc


def connect(address: str) -> None:
    """Join (or start) the Ray that ``address`` names; a no-op when this process already joined one."""
    if not address:
        raise ValueError("RECSYS_RAY_ADDRESS is empty: bulk encoding runs in-process")
    if address != "local" and not address.startswith("ray://"):
        raise ValueError(f"RECSYS_RAY_ADDRESS={address!r}: use 'local' or 'ray://host:port'")
    ray = _ray()
    if ray.is_initialized():
        return
    if address == "local":
        ray.init(include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=address, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False


class EncodeBatch:
    """A Ray Data actor: one encoder for the actor's life, called on batches of item ids."""

    def __init__(self, read: Reader, build: Callable[[], MultimodalEncoder]) -> None:
        self.read = read
        self.encoder = build()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        present, contents = self.read([int(i) for i in batch["item_id"]])
        dims = self.encoder.dims
        routes = (
            self.encoder.encode_items(contents)
            if contents
            else {route: np.zeros((0, dims[route]), np.float32) for route in ITEM_ROUTES}
        )
        return {"item_id": np.asarray(present, dtype=np.int64), **{r: routes[r] for r in ITEM_ROUTES}}


def encode_on_ray(
    item_ids: Sequence[int],
    read: Reader,
    build: Callable[[], MultimodalEncoder],
    address: str,
    *,
    batch_size: int = 64,
    actors: int | None = None,
    gpus_per_actor: float | None = None,
) -> Iterator[tuple[list[int], dict[str, np.ndarray]]]:
    """Yield ``(ids, route -> vectors)`` per encoded batch, in completion order (not input order).

    ``read`` and ``build`` are pickled to the actors. ``gpus_per_actor`` None: one GPU per actor when the cluster
    has GPUs; ``actors`` None: one per GPU, else one per 4 CPUs (at least one)."""
    ids = [int(i) for i in item_ids]
    if not ids:
        return
    connect(address)
    ray = _ray()
    resources = ray.cluster_resources()
    gpus = gpus_per_actor if gpus_per_actor is not None else (1.0 if resources.get("GPU", 0) >= 1 else 0.0)
    pool = actors or (max(1, int(resources.get("GPU", 0))) if gpus else max(1, int(resources.get("CPU", 1) // 4)))
    log.info("encoding %d items on Ray: %d actors, %.1f GPU each", len(ids), pool, gpus)
    dataset = ray.data.from_items([{"item_id": i} for i in ids]).map_batches(
        EncodeBatch,
        fn_constructor_args=(read, build),
        batch_size=batch_size,
        batch_format="numpy",
        concurrency=pool,
        num_cpus=ACTOR_CPUS,
        num_gpus=gpus,
    )
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        found = batch["item_id"].astype(np.int64).tolist()
        if found:
            yield found, {route: np.asarray(batch[route], dtype=np.float32) for route in ITEM_ROUTES}
