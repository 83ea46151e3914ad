"""Giving freed heap memory back to the operating system after a large build.

A full build reads every catalog row as Python objects (ORM rows, attribute dicts) and drops them once the columns
are made; glibc keeps those freed pages in its arenas, so without a trim they stay in the process's RSS (about 1 GB
of a million-item restart here). ``malloc_trim`` returns them; elsewhere (musl, macOS, Windows) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)


def trim_heap() -> bool:
    """Return freed heap pages to the OS where the C library can; True when it did."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return bool(trim(0))
