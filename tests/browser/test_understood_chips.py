"""In Chromium over the real app (marked browser): a Chinese query shows what it was understood as, as chips, and
unticking a chip searches again without it; a merchant's Chinese-titled item is found by an English query."""

from __future__ import annotations

import time

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.config import Settings
from recsys.service.taillift import TailLiftService
from tests.browser.app_process import chromium_page, require_chromium, running_app
from tests.small_catalog import fill_small_catalog, photo

pytestmark = pytest.mark.browser
RESULTS = "#results .thumbnail-item"
CHIPS = "#understood-chips label"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("chips") / "data"
    catalog = TailLiftService(Settings.from_env({"data_dir": data_dir}, environ={}))
    fill_small_catalog(catalog)
    fields = {"title": "女士紫色真丝连衣裙", "category": "服装 > 连衣裙", "price": 320}
    fields["attributes"] = {"baseColour": "Purple", "articleType": "Dresses", "gender": "Women"}
    catalog.add_item(SYSTEM, fields, [photo((120, 20, 140))])
    catalog.close()
    with running_app(data_dir) as url, chromium_page(url) as page:
        yield page


def search(page, text: str) -> None:
    from playwright.sync_api import expect

    box = page.locator("#search-text textarea")
    box.fill(text)
    deadline = time.time() + 180  # the page is up while the start-up still builds the index
    while True:
        box.press("Enter")
        try:
            expect(page.locator(RESULTS).first).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            assert time.time() < deadline, "search never became ready"


def captions(page) -> list[str]:
    return page.locator(f"{RESULTS} .caption-label").all_inner_texts()


def test_chips_show_the_understanding_and_unticking_one_searches_without_it(page):
    from playwright.sync_api import expect

    search(page, "红色衬衫")
    chips = page.locator(CHIPS)
    expect(chips).to_have_count(2, timeout=30_000)
    assert chips.all_inner_texts() == ["colour: Red (红色)", "type: Shirts (衬衫)"]
    expect(page.locator(f"{RESULTS} .caption-label").first).to_contain_text("Red cotton shirt", timeout=30_000)
    page.locator(CHIPS, has_text="colour").click()  # untick: search again without the colour
    expect(page.locator("#understood-chips input:checked")).to_have_count(1, timeout=30_000)
    # Without the colour, the type leads: the shirts of every colour come first (before, red items did).
    deadline = time.time() + 30
    while not all("shirt" in c for c in captions(page)[:6]):
        assert time.time() < deadline, f"the list did not change to shirts: {captions(page)[:6]}"
        time.sleep(0.5)
    assert {c.split(" ")[1] for c in captions(page)[:6]} != {"Red"}


def test_an_english_query_finds_the_chinese_titled_item(page):
    from playwright.sync_api import expect

    search(page, "purple dress")
    expect(page.locator(f"{RESULTS} .caption-label").first).to_contain_text("女士紫色真丝连衣裙", timeout=30_000)
