"""Drives the real app in Debian's Chromium: type a query, see results, open one (marked browser)."""

from __future__ import annotations

import os
import time

import pytest

from recsys.config import Settings
from recsys.service.taillift import TailLiftService
from tests.browser.app_process import CHROMIUM, require_chromium, running_app
from tests.small_catalog import fill_small_catalog

pytestmark = pytest.mark.browser


ADMIN_NAME, ADMIN_PASSWORD = "e2e-admin", "e2e-admin-password"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    catalog = TailLiftService(Settings.from_env({"data_dir": data_dir}, environ={}))
    fill_small_catalog(catalog)
    with running_app(data_dir, {"RECSYS_ADMIN_USER": ADMIN_NAME, "RECSYS_ADMIN_PASSWORD": ADMIN_PASSWORD}) as url:
        yield url


def test_type_query_see_results_open_one(app_url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        box = page.locator("#search-text textarea")
        box.fill("blue cotton dress")
        results = page.locator("#results button.thumbnail-item, #results .thumbnail-item")
        # The page is up while the start-up runs in the background: search answers "not ready yet" until then.
        deadline = time.time() + 180
        while True:
            box.press("Enter")
            try:
                expect(results.first).to_be_visible(timeout=5_000)
                break
            except AssertionError:
                assert time.time() < deadline, "search never became ready"
                expect(page.get_by_text("Search is not ready yet")).to_be_visible()
        assert results.count() >= 5
        results.first.click()
        expect(page.locator("#result-detail")).to_contain_text("Blue cotton dress", timeout=30_000)
        if os.environ.get("TAILLIFT_SCREENSHOT"):
            page.screenshot(path=os.environ["TAILLIFT_SCREENSHOT"], full_page=False)
        browser.close()


def test_an_example_searches_and_clear_resets_the_filters(app_url):
    """(Runs after the first test: the start-up is done by then.)"""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(app_url)
        results = page.locator("#results button.thumbnail-item, #results .thumbnail-item")
        page.get_by_text("women red dress").first.click()  # a "Try" example runs its search
        expect(results.first).to_be_visible(timeout=60_000)
        page.get_by_label("Women (", exact=False).first.check()
        # the facet box, beside the understood chips (colour, gender, type of "women red dress")
        expect(page.locator(".search-facet input[type=checkbox]:checked")).to_have_count(1, timeout=10_000)
        expect(page.locator("#understood-chips input[type=checkbox]:checked").first).to_be_visible()
        page.get_by_role("button", name="Clear").click()
        expect(page.locator("input[type=checkbox]:checked")).to_have_count(0, timeout=10_000)  # chips too
        expect(page.locator("#search-text textarea")).to_have_value("")
        browser.close()


def test_training_tab_runs_activates_and_rolls_back(app_url):
    """Two short runs from the Training tab, serve the second, then roll back to the first."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(app_url)
        page.get_by_role("tab", name="Training").click()
        page.locator("#train-epochs input").fill("2")
        page.locator("#train-batch input").fill("16")
        status = page.locator("#train-status")
        page.locator("#train-start").click()  # as a guest: refused, nothing starts
        expect(status).to_contain_text("not allowed", timeout=30_000)
        page.locator("#account-name").get_by_role("textbox").fill(ADMIN_NAME)
        page.locator("#account-password input[type=password]").fill("wrong password")
        page.locator("#account-sign-in").click()
        expect(page.locator("#account-status")).to_contain_text("wrong password", timeout=30_000)
        page.locator("#account-password input[type=password]").fill(ADMIN_PASSWORD)
        page.locator("#account-sign-in").click()
        expect(page.locator("#account-status")).to_contain_text(f"Signed in as {ADMIN_NAME} (admin)", timeout=30_000)
        saved = []
        for _ in range(2):
            page.locator("#train-start").click()
            for previous in saved:  # a tick may still show the previous run for a moment
                expect(status).not_to_contain_text(previous, timeout=60_000)
            expect(status).to_contain_text("Saved", timeout=180_000)
            name = status.locator("strong").nth(1).inner_text()
            assert name.startswith("towerclip-") and name not in saved
            saved.append(name)
            expect(status).to_contain_text("Recall@10")
            expect(page.locator("#train-loss")).to_be_visible()
            page.wait_for_timeout(500)
        page.locator("#train-refresh").click()
        for version in (saved[1], saved[0]):  # serve the newer one, then roll back to the older
            expect(page.locator("#train-versions")).to_contain_text(version, timeout=30_000)
            dropdown = page.locator("#train-version input")
            dropdown.click()
            page.get_by_role("option", name=version).click()
            page.locator("#train-activate").click()
            expect(page.locator("#train-activate-status")).to_contain_text(f"Now serving {version}", timeout=120_000)
        if os.environ.get("TAILLIFT_TRAINING_SCREENSHOT"):
            page.screenshot(path=os.environ["TAILLIFT_TRAINING_SCREENSHOT"], full_page=True)
        browser.close()
