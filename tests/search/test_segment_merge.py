"""The background merge of delta segments: results unchanged, edits made during a merge kept, a merge that fails
(an exception where a kill could land) leaves the served state and the saved index as they were and the next one
succeeds, and searches during merges read one consistent snapshot."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.segmented_vectors import SegmentedVectorIndex
from recsys.index.vector import VectorIndex
from recsys.search.segment_merge import SegmentMerger
from recsys.search.state import ServingState, StateHolder
from recsys.search.table import ItemTable
from tests.index.data import queries_near
from tests.index.segment_fixture import QUERIES, EditedCatalog


def table_of(ids: np.ndarray, texts: list[str]) -> ItemTable:
    n = ids.size
    zeros = np.zeros(n, np.float32)
    blank = np.array([""] * n, dtype=object)
    return ItemTable(
        ids, list(texts), [""] * n, [""] * n, blank, blank, blank, zeros, zeros, zeros, zeros, zeros, zeros,
        np.zeros(n, bool),
    )  # fmt: skip


def state_of(vectors, lexical, ids, texts) -> ServingState:
    return ServingState("v1", vectors, lexical, table_of(ids, texts), {}, None)


def edited_state(catalog: EditedCatalog, bursts=None) -> ServingState:
    base = VectorIndex(catalog.dim, "Flat")
    base.build(catalog.ids, catalog.vectors)
    vectors, lexical = SegmentedVectorIndex([base]), SegmentedBM25.build(catalog.ids, catalog.texts)
    for add, texts, add_vectors, deleted in catalog.edits if bursts is None else bursts:
        vectors, lexical = vectors.edited(add, add_vectors, deleted), lexical.edited(add, texts, deleted)
    return state_of(vectors, lexical, vectors.ids(), [])


def results(state: ServingState, queries: np.ndarray) -> tuple:
    dense = state.vectors.search(queries, 10)[1].tolist()
    return dense, [state.lexical.search(q, 10)[1].tolist() for q in QUERIES]


class Inline:
    """The engine worker's role: jobs run in submission order, here on the caller's thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, job, *args) -> None:
        with self.lock:
            job(*args)


@pytest.fixture(scope="module")
def catalog():
    return EditedCatalog(n=1200)


def test_a_merge_swaps_in_one_base_with_the_same_results(catalog, tmp_path):
    holder = StateHolder()
    holder.publish(edited_state(catalog))
    queries = queries_near(catalog.vectors, 10)
    before = results(holder.get(), queries)
    merger = SegmentMerger(holder, Inline(), threshold=10, save_to=tmp_path / "vectors")
    assert merger.maybe_merge()
    merger.wait()
    merged = holder.get()
    assert merger.merges == 1 and len(merged.vectors.segments) == 1 and len(merged.lexical.segments) == 1
    base = merged.lexical.segments[0]  # its long terms' parts made on the merge thread, kept by the rebase
    assert any(key[0] == id(base) for key in merged.lexical._long_parts)  # noqa: SLF001
    assert results(merged, queries) == before
    saved = VectorIndex.load(tmp_path / "vectors", {"model_version": "v1", "count": len(merged.vectors)})
    assert saved is not None and np.array_equal(saved.ids(), merged.vectors.ids())  # a restart reads the merge


def test_edits_made_while_a_merge_runs_are_kept_after_its_swap(catalog):
    first, later = catalog.edits[:2], catalog.edits[2:]
    holder = StateHolder()
    started = edited_state(catalog, first)
    holder.publish(started)
    gate = threading.Event()
    merger = SegmentMerger(holder, Inline(), threshold=10, checkpoint=lambda stage: gate.wait(30))
    assert merger.maybe_merge()
    state = started
    vectors, lexical = state.vectors, state.lexical
    for add, texts, add_vectors, deleted in later:  # applied to the served state during the merge
        vectors, lexical = vectors.edited(add, add_vectors, deleted), lexical.edited(add, texts, deleted)
    holder.publish(state_of(vectors, lexical, vectors.ids(), []))
    gate.set()
    merger.wait()
    merged = holder.get()
    assert merger.merges == 1 and len(merged.vectors.segments) == 1 + len(later)
    queries = queries_near(catalog.vectors, 10)
    assert results(merged, queries) == results(edited_state(catalog), queries)
    assert np.array_equal(merged.vectors.ids(), catalog.final()[0])


@pytest.mark.parametrize("stage", ["folded", "written"])
def test_a_merge_that_dies_leaves_the_old_snapshot_serving_and_the_next_merge_succeeds(catalog, tmp_path, stage):
    holder = StateHolder()
    served = edited_state(catalog)
    holder.publish(served)
    directory = tmp_path / "vectors"
    served.vectors.base.save(directory, {"model_version": "v1", "count": len(served.vectors.base)})
    manifest = (directory / "manifest.json").read_text()
    queries = queries_near(catalog.vectors, 10)
    before = results(served, queries)

    def die(at: str) -> None:
        if at == stage:
            raise RuntimeError(f"killed at {at}")

    failing = SegmentMerger(holder, Inline(), threshold=10, save_to=directory, checkpoint=die)
    assert failing.maybe_merge()
    failing.wait()
    assert failing.failures == 1 and holder.get() is served  # nothing swapped, deltas kept
    assert results(holder.get(), queries) == before
    assert (directory / "manifest.json").read_text() == manifest  # the saved index is still the old one
    assert VectorIndex.load(directory) is not None
    assert not [p for p in directory.iterdir() if p.name.startswith(".tmp-")]  # the half-written folder is gone
    merger = SegmentMerger(holder, Inline(), threshold=10, save_to=directory)
    assert merger.maybe_merge()
    merger.wait()
    assert merger.merges == 1 and len(holder.get().vectors.segments) == 1
    assert results(holder.get(), queries) == before
    assert (directory / "manifest.json").read_text() != manifest


def test_searches_during_merges_read_one_consistent_snapshot(catalog):
    holder = StateHolder()
    holder.publish(edited_state(catalog))
    queries = queries_near(catalog.vectors, 4)
    want = results(holder.get(), queries)
    seen, stop = [], threading.Event()

    def search() -> None:
        while not stop.is_set():
            state = holder.get()  # one read per search, as the engine does
            seen.append((results(state, queries) == want, len(state.vectors) == len(state.lexical)))

    readers = [threading.Thread(target=search) for _ in range(2)]
    for reader in readers:
        reader.start()
    for _ in range(3):
        state = holder.get()
        holder.publish(state_of(*_reopened(state), state.vectors.ids(), []))  # deltas again, to be merged
        merger = SegmentMerger(holder, Inline(), threshold=1)
        assert merger.maybe_merge()
        merger.wait()
        assert merger.merges == 1
    stop.set()
    for reader in readers:
        reader.join()
    assert seen and all(same and aligned for same, aligned in seen)


def _reopened(state: ServingState):
    """The same items with a few re-added as a delta (update = tombstone + add): results unchanged."""
    ids = state.vectors.ids()[:20]
    vectors = state.vectors.edited(ids, state.vectors.vectors(ids), np.empty(0, np.int64))
    lexical = state.lexical.edited(ids, state.lexical.texts(ids), np.empty(0, np.int64))
    return vectors, lexical
