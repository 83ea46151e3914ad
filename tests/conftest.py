"""Shared fixtures: isolated settings per test, tiny generated catalogs, and the path of the real data."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from recsys.config import REPO_ROOT, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a model hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def shared_data_dir() -> Path:
    return Path(os.environ.get("RECSYS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def real_data() -> Path:
    """../shared/data (or RECSYS_SHARED_DATA). Data tests fail loudly, not skip, when it is missing in CI."""
    path = shared_data_dir()
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"real data not found at {path}")
        pytest.skip(f"real data not found at {path}")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {"data_dir": tmp_path / "data", "database_url": "", "demo_dir": tmp_path / "no-demo", "demo_limit": 0},
        environ={},
    )


def make_image_bytes(color=(200, 30, 30), size=(60, 80), fmt="JPEG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def image_bytes():
    return make_image_bytes


@pytest.fixture(scope="session")
def small_search_service(tmp_path_factory):
    """A TailLiftService over the 30-item generated catalog with models loaded (shared: loading takes seconds)."""
    from tests.small_catalog import small_search_service_at

    service = small_search_service_at(tmp_path_factory.mktemp("search") / "data")
    yield service
    service.engine.wait_idle()
