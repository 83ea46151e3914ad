"""The serving state: one model version's indexes, item table and route vectors, published atomically.

Searches take ``holder.get()`` once and use that state to the end; the background worker builds a new state
and publishes it with one reference assignment, so a search never sees a half-updated index.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ..index.lexical import BM25Index
from ..index.vector import VectorIndex
from .table import ItemTable


@dataclass(frozen=True)
class ServingState:
    model_version: str
    vectors: VectorIndex  # fused item vectors
    lexical: BM25Index
    table: ItemTable
    routes: dict[str, np.ndarray]  # route -> [len(table), d], rows aligned with table.ids (zeros when missing)


class StateHolder:
    def __init__(self) -> None:
        self._state: ServingState | None = None
        self._ready = threading.Event()

    def get(self) -> ServingState | None:
        return self._state

    def publish(self, state: ServingState) -> None:
        self._state = state  # one reference assignment: atomic for readers
        self._ready.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)
