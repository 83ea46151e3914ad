"""SnapshotHolder: swaps and copy-on-write edits while other threads search."""

from __future__ import annotations

import threading
import time

import numpy as np

from recsys.index.lexical import BM25Index
from recsys.index.snapshot import IndexSnapshot, SnapshotHolder
from recsys.index.vector import VectorIndex
from tests.index.data import clustered

DIM = 8


def make_snapshot(version: str, n: int, seed: int) -> IndexSnapshot:
    vectors = VectorIndex(DIM)
    vectors.build(np.arange(n), clustered(n, DIM, seed=seed))
    lexical = BM25Index(stemmer="none")
    lexical.build(np.arange(n), [f"item {i} colour {'red' if i % 2 else 'blue'}" for i in range(n)])
    return IndexSnapshot(version, vectors, lexical)


def test_swap_and_update_while_searching():
    holder = SnapshotHolder(make_snapshot("v1", 200, 1))
    errors: list[BaseException] = []
    seen: set[str] = set()
    stop = threading.Event()
    query = np.ones((1, DIM), dtype=np.float32)

    def reader() -> None:
        try:
            while not stop.is_set():
                snap = holder.get()
                seen.add(snap.model_version)
                _, ids = snap.vectors.search(query, 5)
                assert (ids >= 0).all() and np.isin(ids, snap.vectors.ids()).all()
                assert snap.lexical.search("red", 3)[1][0] >= 0
        except BaseException as exc:  # noqa: BLE001  (reported to the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for round_ in range(5):
        version = f"v{round_ + 2}"
        holder.swap(make_snapshot(version, 200 + round_, round_))
        holder.update(lambda s: (s.vectors.remove(np.arange(0, 50)), s.lexical.remove(np.arange(0, 50))))
        deadline = time.monotonic() + 5
        while version not in seen and time.monotonic() < deadline and not errors:
            time.sleep(0.001)  # let readers pick the new snapshot up while the next swap is prepared
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    assert {f"v{i}" for i in range(2, 7)} <= seen


def test_update_does_not_touch_published_snapshot():
    holder = SnapshotHolder(make_snapshot("v1", 100, 3))
    before = holder.get()

    def change(draft: IndexSnapshot) -> None:
        draft.vectors.remove(np.arange(10))
        draft.lexical.add([500], ["brand new red item"])

    after = holder.update(change)
    assert holder.get() is after and after.model_version == "v1"
    assert len(before.vectors) == 100 and len(before.lexical) == 100
    assert len(after.vectors) == 90 and 500 in after.lexical.search("brand", 1)[1]
    assert not after.lexical._dirty  # lazy rebuild paid before publishing
