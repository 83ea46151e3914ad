"""What the browser tests share: Debian's Chromium, the real app started as a subprocess, a page in Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.request import urlopen

import pytest

from recsys.config import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]
START_TIMEOUT_S = 240


def require_chromium() -> None:
    """Skip without Chromium here; in CI (which installs it) a missing Chromium is a failure."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing (apt-get install chromium)")
        pytest.skip("Chromium not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(data_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """``python app.py`` on ``data_dir`` (no demo seed) until the page answers; yields its URL, stops it after."""
    port = free_port()
    full_env = {
        **os.environ,
        "RECSYS_DATA_DIR": str(data_dir),
        "RECSYS_DEMO_LIMIT": "0",
        "RECSYS_PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        **(env or {}),
    }
    log_path = data_dir / "app.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=REPO_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.time() + START_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"app exited: {log_path.read_text()[-3000:]}")
                try:
                    urlopen(url, timeout=2)
                    break
                except OSError:
                    if time.time() > deadline:
                        pytest.fail(f"app did not start in {START_TIMEOUT_S} s")
                    time.sleep(1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def chromium_page(
    url: str, width: int = 1400, height: int = 1000, args: list[str] | None = None, locale: str | None = None
) -> Iterator:
    """A Chromium page open on ``url`` (``locale``: the browser language it reports, e.g. "zh-CN"); closed after."""
    from playwright.sync_api import sync_playwright  # only the browser tests need playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + list(args or []))
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, locale=locale)
            page.goto(url)
            yield page
        finally:
            browser.close()
