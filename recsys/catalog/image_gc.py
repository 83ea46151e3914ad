"""Garbage collection of the content-addressed image store: files that no item references any more.

Deleting an item, or removing one of its images, deletes database rows only: a stored file may be shared by
several items (same bytes, same SHA-256), so it cannot be removed at that moment. This sweep removes what no
``item_images`` row references, plus temp files left by writes that were killed.

Why a grace period: an import writes its files BEFORE it commits the rows that reference them, and
``ImageStore.put`` refreshes the modification time of a file it reuses. A file younger than ``min_age_s``
may belong to a transaction still in flight, so it is kept; only files unreferenced AND older than that are
removed. Run it while no encoder training run is reading images of items deleted since the run began.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from recsys.catalog.images import ImageStore

STORED_NAME = re.compile(r"^[0-9a-f]{64}\.[a-z]{3,4}$")  # <sha256>.<ext>, inside a <2 hex> folder
FOLDER_NAME = re.compile(r"^[0-9a-f]{2}$")
TEMP_PREFIX = ".tmp-"


@dataclass
class ImageGcReport:
    stored_files: int = 0  # content files found in the store
    referenced: int = 0  # of those, referenced by an item image row
    kept_recent: int = 0  # unreferenced but younger than the grace period
    removed: list[str] = field(default_factory=list)  # store-relative paths (would be) removed
    temp_removed: int = 0  # abandoned temp files from killed writes
    bytes_freed: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        return (
            f"{self.stored_files} stored image files, {self.referenced} referenced; {verb} "
            f"{len(self.removed)} unreferenced ({self.bytes_freed / 2**20:.1f} MiB) and {self.temp_removed} "
            f"abandoned temp files; kept {self.kept_recent} unreferenced files younger than the grace period"
        )

    def to_dict(self) -> dict:
        return {
            "stored_files": self.stored_files,
            "referenced": self.referenced,
            "kept_recent": self.kept_recent,
            "removed": self.removed,
            "temp_removed": self.temp_removed,
            "bytes_freed": self.bytes_freed,
            "dry_run": self.dry_run,
        }


def _old_enough(path: Path, cutoff: float) -> tuple[bool, int]:
    """(modified before ``cutoff``, size); a file that vanished meanwhile counts as not old enough."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return False, 0
    return st.st_mtime < cutoff, st.st_size


def collect_unreferenced_images(
    store: ImageStore, referenced: set[str], *, min_age_s: float, dry_run: bool = False, now: float | None = None
) -> ImageGcReport:
    """Remove store files whose relative path is not in ``referenced`` and that are older than ``min_age_s``.

    Only names the store itself writes are touched (``ab/<sha256>.<ext>`` and ``ab/.tmp-*``); anything else
    under the root is left alone.
    """
    if min_age_s < 0:
        raise ValueError("min_age_s must be >= 0")
    report = ImageGcReport(dry_run=dry_run)
    cutoff = (time.time() if now is None else now) - min_age_s
    if not store.root.is_dir():
        return report
    for folder in sorted(p for p in store.root.iterdir() if p.is_dir() and FOLDER_NAME.match(p.name)):
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.is_symlink():
                continue
            if path.name.startswith(TEMP_PREFIX):
                old, _ = _old_enough(path, cutoff)
                if old:
                    report.temp_removed += 1
                    if not dry_run:
                        path.unlink(missing_ok=True)
                continue
            if not STORED_NAME.match(path.name) or not path.name.startswith(folder.name):
                continue
            report.stored_files += 1
            rel = f"{folder.name}/{path.name}"
            if rel in referenced:
                report.referenced += 1
                continue
            old, size = _old_enough(path, cutoff)  # checked right before removal: put() refreshes the time
            if not old:
                report.kept_recent += 1
                continue
            report.removed.append(rel)
            report.bytes_freed += size
            if not dry_run:
                path.unlink(missing_ok=True)
        # Empty folders stay: removing one could race with put(), which creates the folder before its file.
    return report
