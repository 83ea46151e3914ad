"""Keeping a search's freed temporaries mapped in the process (glibc ``mallopt``), instead of unmapping them.

glibc serves an allocation over its mmap threshold (128 KB, adapting upward as such blocks are freed) with a fresh
mapping, and hands freed memory at the top of a heap back to the kernel once it exceeds the trim threshold. A
search at a million items allocates and frees a few MB of numpy temporaries (BM25 accumulators over a segment, 800
re-scored fused rows), so each query page-faulted those pages in again: deriving 800 fused rows took 4.7 ms, 0.8 ms
with the pages kept (docs/scale.md, "Freed memory kept mapped"). ``RECSYS_HEAP_KEEP_MB`` sets both thresholds:
allocations under it come from the heap and up to twice it stays mapped after a free. Other C libraries (macOS,
musl) have no ``mallopt`` and keep their own defaults.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3


def keep_freed_memory(megabytes: int) -> bool:
    """Set glibc's mmap threshold to ``megabytes`` and its trim threshold to twice that, for this process; False
    (nothing changed) when ``megabytes`` is 0 or the C library is not glibc."""
    if megabytes <= 0:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    size = int(megabytes) << 20
    done = mallopt(M_MMAP_THRESHOLD, size) == 1 and mallopt(M_TRIM_THRESHOLD, 2 * size) == 1
    if not done:
        log.warning("mallopt refused a %d MB threshold; glibc's defaults stay", megabytes)
    return done
