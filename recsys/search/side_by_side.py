"""Two independent halves of one search, run at once when a core is spare.

The first stage's dense half (FAISS, which releases the GIL, and the re-scoring product) and its BM25 half (numpy,
which releases it in its array loops) share nothing, so on a machine with a free core running them on two threads
cuts a search to about its slower half (docs/scale.md, "Dense and BM25 side by side"). Under load the cores are busy
with other searches, so a half is handed to a worker only when one is free at that moment; otherwise both run on
the caller's thread, one after the other, as without workers: a search never waits behind another one's half.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


class SideBySide:
    """``both(first, second)``: ``(first(), second())``, ``first`` on a free worker thread when there is one."""

    def __init__(self, workers: int) -> None:
        self.workers = max(int(workers), 0)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="recall-half") if self.workers else None
        self._free = threading.Semaphore(self.workers)

    def both(self, first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
        if self._pool is None or not self._free.acquire(blocking=False):
            return in_turn(first, second)
        try:
            future = self._pool.submit(first)
        except RuntimeError:  # the pool was shut down (the engine closing): nothing was handed off
            self._free.release()
            return in_turn(first, second)
        future.add_done_callback(lambda _: self._free.release())
        try:
            other = second()
        except BaseException:
            if not future.cancel():
                future.exception()  # wait: never leave the half running behind a failed search
            raise
        return future.result(), other

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def in_turn(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """``(first(), second())`` on this thread: what ``SideBySide.both`` does with no free worker."""
    return first(), second()
