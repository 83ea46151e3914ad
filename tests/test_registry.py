"""Model versions are written whole, never overwritten, and the ACTIVE pointer can roll back."""

from __future__ import annotations

import pytest

from recsys import registry


def _save(settings, version: str, created: str, kind: str = "tower_clip") -> None:
    registry.save_version(
        settings,
        version,
        {"kind": kind, "created": created},
        lambda folder: (folder / "w.bin").write_bytes(version.encode()),
    )


def test_versions_are_listed_oldest_first_and_activated(settings):
    assert registry.list_versions(settings) == [] and registry.active_version(settings) is None
    _save(settings, "v2", "2024-02-01")
    _save(settings, "v1", "2024-01-01")
    _save(settings, "ranker-1", "2024-03-01", kind="ranker")
    assert registry.list_versions(settings, kind="tower_clip") == ["v1", "v2"]
    registry.activate(settings, "v2")
    assert registry.active_version(settings) == "v2"
    registry.activate(settings, "v1")  # rollback
    assert registry.active_version(settings) == "v1"
    assert (registry.version_dir(settings, "v2") / "w.bin").read_bytes() == b"v2"


def test_versions_are_never_overwritten_and_unknown_ones_cannot_be_activated(settings):
    _save(settings, "v1", "2024-01-01")
    with pytest.raises(FileExistsError):
        _save(settings, "v1", "2024-05-01")
    with pytest.raises(KeyError):
        registry.activate(settings, "missing")
    with pytest.raises(ValueError):
        registry.version_dir(settings, "../escape")


def test_failed_write_leaves_no_version_behind(settings):
    def boom(folder):
        (folder / "partial.bin").write_bytes(b"x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        registry.save_version(settings, "v9", {"kind": "tower_clip"}, boom)
    assert registry.list_versions(settings) == []
    assert not any(settings.models_dir.iterdir())  # the temp folder is gone too
