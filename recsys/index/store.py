"""Crash-safe persistence of an index directory with a checksummed manifest.

Layout of ``directory``::

    manifest.json          -> names the generation folder below and the sha256 of each file in it
    gen-<uuid>/...         the index files of that generation

Why a manifest pointer instead of renaming whole directories: ``os.replace`` of one file is atomic on
POSIX and Windows, so a reader sees either the old manifest (whose generation folder is intact) or the
new one (whose folder was completely written and fsynced before the manifest named it). A process
killed at any point never leaves a manifest that points at half-written files; leftovers are swept by
the next save. One writer per directory is assumed (the service owns the index).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    # Directories need an fsync too on POSIX so the new names survive a power loss; Windows can't open them.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_directory(directory: str | Path, write: Callable[[Path], None], manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Call ``write(folder)`` into a fresh folder, then publish it atomically with ``manifest``.

    Returns the manifest as written (caller fields plus ``format``, ``created``, ``data``, ``files``).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    tmp = directory / f".tmp-{token}"
    tmp.mkdir()
    try:
        write(tmp)
        files, sizes = {}, {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            _fsync(path)
            files[path.relative_to(tmp).as_posix()] = sha256_file(path)
            sizes[path.relative_to(tmp).as_posix()] = path.stat().st_size
        _fsync(tmp)
        generation = f"gen-{token}"
        os.rename(tmp, directory / generation)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    full = dict(manifest)
    full.update(
        format=FORMAT,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        data=generation,
        files=files,
        sizes=sizes,
    )
    pending = directory / f".manifest-{token}.json"
    with open(pending, "w", encoding="utf-8") as fh:
        json.dump(full, fh, indent=2, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pending, directory / MANIFEST)  # the commit point
    _fsync(directory)
    _sweep(directory, keep=generation)
    return full


def _sweep(directory: Path, keep: str) -> None:
    for entry in directory.iterdir():
        if entry.name == keep or entry.name == MANIFEST:
            continue
        if entry.name.startswith(("gen-", ".tmp-", ".manifest-")):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def load_directory(
    directory: str | Path, expect: Mapping[str, Any] | None = None, verify: str = "sha256"
) -> tuple[Path, dict[str, Any]] | None:
    """Return ``(data folder, manifest)`` when the saved index is complete, intact and as expected; else None.

    None (with the reason logged) means "rebuild from stored embeddings/texts": missing manifest, unknown
    format, missing file, checksum mismatch, or a manifest field that differs from ``expect``. ``verify="size"``
    checks each file's size instead of hashing it, for files that are memory-mapped rather than read (hashing
    gigabytes would read every page the map leaves on disk); the save protocol already keeps torn writes out.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        log.info("no saved index at %s", directory)
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("unreadable manifest %s: %s", path, exc)
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        log.warning("manifest %s has an unknown format", path)
        return None
    for key, want in (expect or {}).items():
        if manifest.get(key) != want:
            log.info("saved index %s is stale: %s=%r, expected %r", directory, key, manifest.get(key), want)
            return None
    data = directory / str(manifest.get("data", ""))
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        log.warning("manifest %s lists no files", path)
        return None
    sizes = manifest.get("sizes") if verify == "size" else None
    for name, digest in files.items():
        file = data / name
        if not file.is_file():
            intact = False
        elif isinstance(sizes, dict) and name in sizes:
            intact = file.stat().st_size == sizes[name]
        else:
            intact = sha256_file(file) == digest
        if not intact:
            log.warning("saved index %s is corrupt: %s missing or checksum mismatch", directory, name)
            return None
    return data, manifest
