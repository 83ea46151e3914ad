"""The serving state: one model version's indexes, item table and route vectors, published atomically.

Searches take ``holder.get()`` once and use that state to the end; the background worker builds a new state
and publishes it with one reference assignment, so a search never sees a half-updated index.
"""

from __future__ import annotations

from dataclasses import dataclass

from recsys.index.backend import IndexBackend
from recsys.index.lexical import BM25Index
from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.segmented_vectors import SegmentedVectorIndex
from recsys.index.vector import VectorIndex
from recsys.ranking.features import Priors, fit_priors
from recsys.search.route_matrices import RouteMatrices
from recsys.search.route_snapshot import Generation
from recsys.search.table import ItemTable


@dataclass(frozen=True)
class ServingState:
    model_version: str
    vectors: VectorIndex | SegmentedVectorIndex  # fused item vectors (segmented once live edits arrive)
    lexical: BM25Index | SegmentedBM25
    table: ItemTable
    routes: RouteMatrices  # route -> [len(table), d], rows aligned with table.ids (zeros when missing)
    priors: Priors | None  # catalog-wide priors of this table, published with it so a search never mixes them
    # The configured index engine (RECSYS_INDEX_BACKEND=qdrant) holding this state's encoded items: the text
    # route's hybrid recall reads it; None: the embedded FAISS + BM25 above serve it (the default, and first starts).
    backend: IndexBackend | None = None
    # The catalog and embedding generation the build read (route_snapshot.current_generation; None: unknown): every
    # stored vector written at or before it is in this state; live edits keep it, since their own rows are newer and
    # re-applying them is harmless. A saved vector base records it, so a restart re-reads only what was written since.
    generation: Generation | None = None


def serving_state(
    model_version: str,
    vectors: VectorIndex | SegmentedVectorIndex,
    lexical: BM25Index | SegmentedBM25,
    table: ItemTable,
    routes: RouteMatrices,
    backend: IndexBackend | None = None,
    generation: Generation | None = None,
) -> ServingState:
    priors = fit_priors(table.rating_sum, table.rating_count, table.impressions, table.clicks) if len(table) else None
    return ServingState(model_version, vectors, lexical, table, routes, priors, backend, generation)


class StateHolder:
    def __init__(self) -> None:
        self._state: ServingState | None = None

    def get(self) -> ServingState | None:
        return self._state

    def publish(self, state: ServingState) -> None:
        self._state = state  # one reference assignment: atomic for readers
