"""Drive the Training tab of the real app in Chromium on a catalog and time the whole loop.

    PYTHONPATH=. python benchmarks/drive_training_tab.py --data-dir DIR [--tail-weight 0.5] [--screenshot PNG]

Starts ``app.py`` on DIR (a data dir whose catalog is already imported, e.g. the fashion demo), opens the
Training tab, starts a run with "serve when done", waits for the before/after fashion table and for the new
version to be served, then rolls back to the parent with Activate. Prints the seconds each stage took
and the before/after table as the tab shows it. Needs Chromium (/usr/bin/chromium) and playwright.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

from recsys.config import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"


def start_app(data_dir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "RECSYS_DATA_DIR": str(data_dir),
        "RECSYS_PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    log = open(data_dir / "drive-app.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 900
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"app exited: {(data_dir / 'drive-app.log').read_text()[-3000:]}")
        try:
            urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except OSError:
            time.sleep(2)
    proc.kill()
    sys.exit("app did not start in 15 minutes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=7875)
    parser.add_argument("--tail-weight", type=float, default=0.0)
    parser.add_argument("--screenshot", help="full-page PNG of the tab after the run")
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    started = time.perf_counter()
    proc = start_app(args.data_dir, args.port)
    print(f"app up in {time.perf_counter() - started:.0f} s", flush=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(f"http://127.0.0.1:{args.port}/")
            page.get_by_role("tab", name="Training").click()
            status = page.locator("#train-status")
            parent = page.locator("#train-versions").inner_text()
            if args.tail_weight:
                page.locator("#train-tail input[type=number]").fill(str(args.tail_weight))
                page.locator("#train-tail input[type=number]").press("Enter")
            page.locator("#train-serve input").check()
            t0 = time.perf_counter()
            page.locator("#train-start").click()
            expect(status).to_contain_text("Saved", timeout=900_000)
            trained = time.perf_counter() - t0
            version = status.locator("strong").nth(1).inner_text()
            print(f"run saved {version} after {trained:.0f} s: {status.inner_text()!r}", flush=True)
            comparison = page.locator("#train-comparison")
            expect(comparison).to_contain_text("before (", timeout=900_000)
            print(f"before/after shown after {time.perf_counter() - t0:.0f} s\n{comparison.inner_text()}", flush=True)
            expect(status).to_contain_text(f"now serving {version}", timeout=900_000)
            print(f"serving it after {time.perf_counter() - t0:.0f} s", flush=True)
            if args.screenshot:
                page.screenshot(path=args.screenshot, full_page=True)
            page.locator("#train-refresh").click()
            expect(page.locator("#train-versions")).to_contain_text(version, timeout=30_000)
            row = [line for line in page.locator("#train-versions").inner_text().split("\n") if "=" in line]
            print(f"options shown in the versions table: {row}", flush=True)
            run_parent = status.inner_text().split("(parent ")[1].split(")")[0]
            page.locator("#train-version input").click()
            page.get_by_role("option", name=run_parent).click()
            t1 = time.perf_counter()
            page.locator("#train-activate").click()
            expect(page.locator("#train-activate-status")).to_contain_text(f"Now serving {run_parent}", timeout=900_000)
            print(f"rolled back to {run_parent} in {time.perf_counter() - t1:.1f} s (versions before: {parent!r})")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
