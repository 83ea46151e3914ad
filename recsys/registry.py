"""Versioned model store: ``models_dir/<version>/`` folders that are never overwritten, plus an ACTIVE pointer.

A version folder is built in a temp folder beside it and moved into place with one ``os.replace``, and the
ACTIVE file is replaced the same way, so readers see a whole version or none and rollback is ``activate(old)``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from recsys.config import Settings

ACTIVE_FILE = "ACTIVE"
CONFIG_FILE = "config.json"


def version_dir(settings: Settings, version: str) -> Path:
    if not version or "/" in version or "\\" in version or version.startswith("."):
        raise ValueError(f"bad model version name {version!r}")
    return settings.models_dir / version


def list_versions(settings: Settings, kind: str | None = None) -> list[str]:
    """Complete versions (with a config.json), of one ``kind`` if given, oldest first by creation time."""
    root = settings.models_dir
    if not root.exists():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / CONFIG_FILE).exists()]
    found = [p for p in found if kind is None or read_config(p).get("kind") == kind]
    return [p.name for p in sorted(found, key=lambda p: (read_config(p).get("created", ""), p.name))]


def read_config(path: Path) -> dict:
    return json.loads((path / CONFIG_FILE).read_text())


def save_version(settings: Settings, version: str, config: dict, write_files: Callable[[Path], None]) -> Path:
    """Create ``models_dir/<version>`` atomically: ``write_files(tmp_dir)`` writes weights, then config.json."""
    final = version_dir(settings, version)
    if final.exists():
        raise FileExistsError(f"model version {version} already exists; versions are never overwritten")
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=settings.models_dir))
    try:
        write_files(tmp)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True))
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def active_version(settings: Settings) -> str | None:
    pointer = settings.models_dir / ACTIVE_FILE
    if not pointer.exists():
        return None
    version = pointer.read_text().strip()
    return version if version and (version_dir(settings, version) / CONFIG_FILE).exists() else None


def activate(settings: Settings, version: str) -> None:
    """Point ACTIVE at an existing version (also the rollback)."""
    if not (version_dir(settings, version) / CONFIG_FILE).exists():
        raise KeyError(f"no model version {version!r} in {settings.models_dir}")
    fd, tmp = tempfile.mkstemp(prefix=".active-", dir=settings.models_dir)
    with os.fdopen(fd, "w") as handle:
        handle.write(version + "\n")
    os.replace(tmp, settings.models_dir / ACTIVE_FILE)


def remove_version(settings: Settings, version: str) -> None:
    """Delete a version folder (a pruned recommender's record; encoder versions are kept for rollback)."""
    shutil.rmtree(version_dir(settings, version), ignore_errors=True)
