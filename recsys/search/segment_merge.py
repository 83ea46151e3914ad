"""The background merge of a serving state's delta segments into a new base, swapped in atomically.

After each live edit the engine asks ``maybe_merge``; once the deltas and tombstones hold ``threshold`` items a
merge thread folds them (``SegmentedVectorIndex.merged`` / ``SegmentedBM25.merged``) from the state it started
on, writes the new vector base through ``VectorIndex.save`` (a temporary folder, then one atomic manifest
rename: a kill at any point leaves the old saved index valid) and hands the result to the engine's worker, which
rebases it onto the state served by then (edits applied during the merge stay as later deltas and tombstones)
and publishes it with one reference assignment. A merge that fails leaves the served state as it was (nothing
is lost: its deltas stay) and the next edit starts another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.segmented_vectors import SegmentedVectorIndex
from recsys.search.state import ServingState, StateHolder

log = logging.getLogger(__name__)
Checkpoint = Callable[[str], None]  # called at "folded" and "written": where a test makes a merge fail


def delta_items(state: ServingState) -> int:
    vectors = state.vectors.delta_items() if isinstance(state.vectors, SegmentedVectorIndex) else 0
    lexical = state.lexical.delta_items() if isinstance(state.lexical, SegmentedBM25) else 0
    return max(vectors, lexical)


def merge_state(state: ServingState, save_to: Path | None = None, checkpoint: Checkpoint | None = None):
    """(vectors, lexical) of ``state`` with all segments folded into one base each; the vector base saved."""
    assert isinstance(state.vectors, SegmentedVectorIndex) and isinstance(state.lexical, SegmentedBM25)
    vectors, lexical = state.vectors.merged(), state.lexical.merged()
    lexical.warm()  # here, not in the next queries: the new base's long terms (the rebase keeps them)
    if checkpoint:
        checkpoint("folded")
    if save_to is not None:
        manifest = {"model_version": state.model_version, "count": len(vectors), "factory": vectors.factory}
        manifest.update(dim=vectors.dim, **(state.generation.manifest() if state.generation else {}))

        def written(_: Path) -> None:
            if checkpoint:
                checkpoint("written")

        vectors.base.save(save_to, manifest, before_commit=written)
    return vectors, lexical


def rebase(current: ServingState, started: ServingState, vectors, lexical) -> ServingState | None:
    """``current`` with the segments ``started`` held replaced by the merged bases; None when ``current`` no
    longer descends from ``started`` (a model switch or a full rebuild published meanwhile)."""
    old_v, old_l = started.vectors, started.lexical
    cur_v, cur_l = current.vectors, current.lexical
    if not (isinstance(cur_v, SegmentedVectorIndex) and isinstance(cur_l, SegmentedBM25)):
        return None
    assert isinstance(old_v, SegmentedVectorIndex) and isinstance(old_l, SegmentedBM25)
    if not (_prefix(old_v.segments, cur_v.segments) and _prefix(old_l.segments, cur_l.segments)):
        return None
    jv, jl = len(old_v.segments), len(old_l.segments)
    merged_v = SegmentedVectorIndex(
        [vectors.base, *cur_v.segments[jv:]], [_since(old_v.dead, cur_v.dead[:jv]), *cur_v.dead[jv:]]
    )
    merged_l = lexical._with(  # noqa: SLF001 - same stats: a merge changes no live document
        [lexical.segments[0], *cur_l.segments[jl:]],
        [_since(old_l.dead, cur_l.dead[:jl]), *cur_l.dead[jl:]],
        cur_l.stats,
    )
    return replace(current, vectors=merged_v, lexical=merged_l)


def _prefix(old: tuple, new: tuple) -> bool:
    return len(new) >= len(old) and all(a is b for a, b in zip(old, new))


def _since(before: tuple[np.ndarray, ...], now: tuple[np.ndarray, ...]) -> np.ndarray:
    """Tombstones added to the merged segments after the merge started: they now apply to the new base.

    Per segment: an id tombstoned in one segment before (an update) may be tombstoned in a later one since."""
    added = [np.setdiff1d(n, b) for b, n in zip(before, now)]
    return np.unique(np.concatenate(added)) if added else np.empty(0, np.int64)


class SegmentMerger:
    def __init__(
        self,
        holder: StateHolder,
        submit: Callable,
        threshold: int,
        save_to: Path | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.holder, self.submit, self.threshold = holder, submit, threshold
        self.save_to, self.checkpoint = save_to, checkpoint
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.merges = 0  # merges swapped in
        self.failures = 0

    def maybe_merge(self) -> bool:
        """Start a merge of the served state when its deltas have grown past the threshold; True if started."""
        state = self.holder.get()
        if state is None or self.threshold <= 0 or delta_items(state) < self.threshold:
            return False
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(target=self._run, args=(state,), name="taillift-merge", daemon=True)
            self._thread.start()
        return True

    def wait(self, timeout: float = 60.0) -> None:
        """Block until the running merge (if any) has been handed to the worker (tests, benchmarks)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, started: ServingState) -> None:
        try:
            vectors, lexical = merge_state(started, self.save_to, self.checkpoint)
        except Exception:
            self.failures += 1
            log.exception("segment merge failed; the served state is unchanged and keeps its deltas")
            return
        self.submit(self._swap, started, vectors, lexical)

    def _swap(self, started: ServingState, vectors, lexical) -> None:
        """On the engine's worker (serialised with edits): rebase onto the served state and publish."""
        current = self.holder.get()
        merged = None if current is None else rebase(current, started, vectors, lexical)
        if merged is None:
            log.info("segment merge dropped: the served state was replaced meanwhile")
            return
        self.holder.publish(merged)
        self.merges += 1
        log.info("segments merged: %d items in the new base", len(merged.vectors))
