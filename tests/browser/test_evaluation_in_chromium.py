"""The Training tab's before/after and the Evaluation tab in Debian's Chromium (marked browser): a one-epoch run
shows its evaluation progress, then its verdict; the Evaluation tab, opened afterwards, lists the comparison; a
browser tab opened after the run shows the new version without Refresh.

The app runs on the 30-item catalog with a generated 70-item fashion set as its demo data (RECSYS_DEMO_DIR), so
the real quick comparison takes seconds.
"""

from __future__ import annotations

import pytest

from recsys.config import Settings
from recsys.service.taillift import TailLiftService
from tests.browser.app_process import CHROMIUM, require_chromium, running_app
from tests.browser.test_app_in_chromium import ADMIN_NAME, ADMIN_PASSWORD
from tests.evaluation.fixtures import _ids
from tests.evaluation.test_fashion_suite import write_fashion
from tests.small_catalog import fill_small_catalog

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    require_chromium()
    root = tmp_path_factory.mktemp("browser-eval")
    data_dir = root / "data"
    train, held = _ids(30, 40)
    demo = write_fashion(root / "demo", sorted(train + held))
    catalog = TailLiftService(Settings.from_env({"data_dir": data_dir}, environ={}))
    fill_small_catalog(catalog)
    catalog.close()
    with running_app(
        data_dir,
        {"RECSYS_DEMO_DIR": str(demo), "RECSYS_ADMIN_USER": ADMIN_NAME, "RECSYS_ADMIN_PASSWORD": ADMIN_PASSWORD},
    ) as url:
        yield url


def test_a_run_is_compared_and_listed_on_the_evaluation_tab(app_url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(app_url)
        # Training needs the models the start-up loads; the page is up (and says so) before that. The page must
        # have rendered first: a banner not in the page yet also counts as hidden.
        expect(page.locator("#account-name")).to_be_visible(timeout=60_000)
        expect(page.locator("#startup-banner")).to_be_hidden(timeout=180_000)
        page.get_by_role("tab", name="Evaluation").click()
        expect(page.locator("#eval-runs")).to_contain_text("Nothing measured yet", timeout=30_000)
        expect(page.locator("#eval-cli-note")).to_contain_text("python -m recsys eval")

        page.locator("#account-name").get_by_role("textbox").fill(ADMIN_NAME)
        page.locator("#account-password input[type=password]").fill(ADMIN_PASSWORD)
        page.locator("#account-sign-in").click()
        expect(page.locator("#account-status")).to_contain_text("(admin)", timeout=30_000)
        page.get_by_role("tab", name="Training").click()
        expect(page.locator("body")).to_contain_text("Headline: title→image Recall@10")
        page.locator("#train-epochs input").fill("1")
        page.locator("#train-batch input").fill("16")
        status, comparison = page.locator("#train-status"), page.locator("#train-comparison")
        runs = page.locator("#eval-runs")
        saved: list[str] = []
        for _ in range(2):  # the first run's parent is the untrained heads; serve it, then the second has a parent
            page.get_by_role("tab", name="Training").click()
            page.locator("#train-start").click()
            for previous in saved:
                expect(status).not_to_contain_text(previous, timeout=60_000)
            expect(status).to_contain_text("Saved", timeout=240_000)
            version = status.locator("strong").nth(1).inner_text()
            saved.append(version)
            expect(comparison).to_contain_text("Evaluated in", timeout=240_000)
            expect(comparison).to_contain_text(f"after ({version})")
            expect(page.locator("#train-loss img, #train-loss svg").first).to_be_visible()
            page.get_by_role("tab", name="Evaluation").click()  # opening the tab reads the reports anew
            expect(runs).to_contain_text(version, timeout=30_000)
            expect(page.locator("#eval-table")).to_contain_text(f"model: {version}")
            if len(saved) == 1:
                expect(runs).to_contain_text("no parent to compare")
                page.get_by_role("tab", name="Training").click()
                page.locator("#train-version input").click()
                page.get_by_role("option", name=version).click()
                page.locator("#train-activate").click()
                expect(page.locator("#train-activate-status")).to_contain_text(
                    f"Now serving {version}", timeout=120_000
                )
        row = runs.locator("tr", has_text=saved[1]).first  # the second run's comparison: its parent is the first
        expect(row).to_contain_text(saved[0])
        expect(row).to_contain_text("quick")
        page.get_by_role("tab", name="Training").click()
        expect(status).to_contain_text("vs parent")
        text = status.inner_text()
        assert ("activate it below" in text) != ("worse than its parent" in text)

        fresh = browser.new_page(viewport={"width": 1400, "height": 1400})  # opened after the run
        fresh.goto(app_url)
        fresh.get_by_role("tab", name="Training").click()
        expect(fresh.locator("#train-versions")).to_contain_text(saved[1], timeout=30_000)
        browser.close()
