"""Garbage collection of the image store: only unreferenced, old files go; shared and in-flight files stay."""

import json
import os
import time

import pytest

from recsys import cli
from recsys.accounts.principal import SYSTEM
from recsys.catalog.image_gc import collect_unreferenced_images
from recsys.catalog.images import check_image
from tests.catalog.bad_inputs import jpeg

DAY = 24 * 3600


def _age(path, seconds=2 * DAY):
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_sweep_removes_unreferenced_old_files_and_nothing_else(service):
    only_a, shared = jpeg((10, 0, 0)), jpeg((0, 10, 0))
    a = service.add_item(SYSTEM, {"title": "A"}, [only_a, shared])
    b = service.add_item(SYSTEM, {"title": "B"}, [shared])
    a_paths = [i.path for i in service.get_item(a.id).images]
    service.delete_item(SYSTEM, a.id)
    root = service.images.root
    stray = root / "notes.txt"  # not a name the store writes: never touched
    stray.write_text("keep me")
    abandoned = a_paths[0].parent / ".tmp-killed-write"
    abandoned.write_bytes(b"half")
    for path in [*a_paths, stray, abandoned]:
        _age(path)

    dry = service.collect_image_garbage(SYSTEM, min_age_hours=24, dry_run=True)
    assert dry.removed == [a_paths[0].relative_to(root).as_posix()] and dry.temp_removed == 1
    assert dry.stored_files == 2 and dry.referenced == 1 and dry.bytes_freed == a_paths[0].stat().st_size
    assert a_paths[0].exists() and abandoned.exists()  # a dry run removes nothing

    report = service.collect_image_garbage(SYSTEM, min_age_hours=24)
    assert report.removed == dry.removed
    assert not a_paths[0].exists() and not abandoned.exists()
    assert stray.exists() and all(i.path.exists() for i in service.get_item(b.id).images)  # shared file kept
    assert service.collect_image_garbage(SYSTEM, min_age_hours=24).removed == []  # nothing left to do


def test_young_unreferenced_files_are_kept_for_imports_still_committing(service):
    item = service.add_item(SYSTEM, {"title": "A"}, [jpeg()])
    path = service.get_item(item.id).images[0].path
    service.delete_item(SYSTEM, item.id)
    report = service.collect_image_garbage(SYSTEM, min_age_hours=24)
    assert report.kept_recent == 1 and report.removed == [] and path.exists()
    assert service.collect_image_garbage(SYSTEM, min_age_hours=0).removed and not path.exists()


def test_reusing_a_stored_file_restarts_its_grace_period(service):
    # An import stores its files before it commits the rows; an old orphan it reuses must not be swept meanwhile.
    image = check_image(jpeg(), max_bytes=10**6, max_pixels=10**7)
    rel = service.images.put(image)
    _age(service.images.path(rel))
    service.images.put(image.without_data())  # the in-flight import reuses the file (no bytes needed)
    report = collect_unreferenced_images(service.images, set(), min_age_s=DAY)
    assert report.kept_recent == 1 and service.images.path(rel).exists()


def test_negative_grace_period_is_refused(service):
    with pytest.raises(ValueError):
        collect_unreferenced_images(service.images, set(), min_age_s=-1)


def test_cli_dry_run_prints_json(service, monkeypatch, capsys):
    item = service.add_item(SYSTEM, {"title": "A"}, [jpeg()])
    path = service.get_item(item.id).images[0].path
    service.delete_item(SYSTEM, item.id)
    _age(path)
    monkeypatch.setattr(cli, "get_settings", lambda: service.settings)
    assert cli.main(["gc-images", "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] and len(out["removed"]) == 1 and path.exists()
    assert cli.main(["gc-images", "--min-age-hours", "-1"]) == 2
