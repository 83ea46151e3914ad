"""The index engine the settings name (``RECSYS_INDEX_BACKEND``), kept apart so the engines can import backend.py."""

from __future__ import annotations

from recsys.config import Settings
from recsys.index.backend import BACKENDS, IndexBackend
from recsys.index.faiss_backend import FaissBackend
from recsys.index.qdrant_backend import QdrantBackend


def make_backend(settings: Settings, dim: int, name: str = "items") -> IndexBackend:
    """The engine ``settings.index_backend`` names, empty, for vectors of ``dim``."""
    if settings.index_backend == "faiss":
        return FaissBackend(dim, settings.index_factory)
    if settings.index_backend == "qdrant":
        return QdrantBackend(
            dim,
            settings.qdrant_url,
            collection=name,
            shards=settings.qdrant_shards,
            replicas=settings.qdrant_replicas,
        )
    raise ValueError(f"RECSYS_INDEX_BACKEND={settings.index_backend!r}: choose one of {', '.join(BACKENDS)}")
