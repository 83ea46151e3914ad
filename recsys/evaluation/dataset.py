"""Locating a suite's files in any directory laid out like ../shared/data, and fingerprinting them.

The fingerprint ties every stored number to the exact bytes it was computed from, so two reports are only
compared as "before/after" when they were run on the same data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

_CHUNK = 1 << 20


def resolve_suite_dir(data_dir: Path | str, suite: str, required: str) -> Path:
    """Accept either the suite folder itself (``.../crowdflower``) or its parent (``.../data``)."""
    base = Path(data_dir).expanduser()
    for candidate in (base, base / suite):
        if (candidate / required).is_file():
            return candidate
    raise FileNotFoundError(f"{suite}: no {required} in {base} or {base / suite}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(directory: Path, names: Sequence[str]) -> dict:
    """sha256 over the sorted listing ``name size sha256(bytes)`` of the files a suite reads."""
    listing = []
    for name in sorted(names):
        path = directory / name
        if path.is_file():
            listing.append(f"{name} {path.stat().st_size} {file_sha256(path)}")
    combined = hashlib.sha256("\n".join(listing).encode()).hexdigest()
    return {"sha256": combined, "files": listing}
