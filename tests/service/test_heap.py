"""recsys/service/heap.py: glibc's thresholds set for the process, or nothing changed."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import numpy as np
import pytest

from recsys.service import heap


def test_zero_leaves_the_c_librarys_defaults(monkeypatch):
    called = []
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda *a: called.append(a))
    assert heap.keep_freed_memory(0) is False and not called


def test_without_mallopt_nothing_changes(monkeypatch):
    class NoMallopt:  # macOS, musl
        pass

    monkeypatch.setattr(heap.ctypes, "CDLL", lambda *a: NoMallopt())
    assert heap.keep_freed_memory(8) is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_glibc_takes_both_thresholds_and_allocations_still_work(monkeypatch):
    sizes = []

    class Recording:
        def __init__(self) -> None:
            self.real = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")

        def mallopt(self, param: int, value: int) -> int:
            sizes.append((param, value))
            return self.real.mallopt(param, value)

    recording = Recording()
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda *a: recording)
    assert heap.keep_freed_memory(8) is True
    assert sizes == [(heap.M_MMAP_THRESHOLD, 8 << 20), (heap.M_TRIM_THRESHOLD, 16 << 20)]
    blocks = [np.ones(1 << 20, np.float32) * i for i in range(8)]  # 4 MB each: now from the heap
    assert [float(b[-1]) for b in blocks] == [float(i) for i in range(8)]
