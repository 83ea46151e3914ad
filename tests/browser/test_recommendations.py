"""Recommendations in Debian's Chromium over the real app (marked browser): "For you" before any query and kept
across a reload, moving toward three opened items, the item page's lists with reasons, add to cart and buy, and no
errors in the page."""

from __future__ import annotations

import time

import pytest

from recsys.config import Settings
from recsys.service.taillift import TailLiftService
from tests.browser.app_process import CHROMIUM, require_chromium, running_app
from tests.small_catalog import fill_small_catalog

pytestmark = pytest.mark.browser
FOR_YOU = "#for-you .thumbnail-item .caption-label"
RESULTS = "#results .thumbnail-item"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("recommend") / "data"
    catalog = TailLiftService(Settings.from_env({"data_dir": data_dir}, environ={}))
    fill_small_catalog(catalog)
    catalog.close()
    with running_app(data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(app_url)
        yield page
        browser.close()


def for_you(page) -> list[str]:
    return page.locator(FOR_YOU).all_inner_texts()


def dresses(captions: list[str]) -> int:
    return sum(" dress · " in c for c in captions)


def test_1_for_you_before_any_query_kept_across_a_reload(page):
    from playwright.sync_api import expect

    deadline = time.time() + 120  # the first fit runs on its own thread at start-up
    while True:
        try:
            expect(page.locator(FOR_YOU).first).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            assert time.time() < deadline, "For you never filled"
            page.reload()
    first = for_you(page)
    assert len(first) == 12 and all("new here?" in c for c in first)
    assert len({c.split(" · ")[0].split()[-1] for c in first}) == 5  # shirts, dresses, sneakers, handbags, watches
    page.reload()
    expect(page.locator(FOR_YOU).first).to_be_visible(timeout=30_000)
    assert for_you(page) == first  # the same shopper after the reload: the same start list


def test_2_three_opened_items_move_for_you_and_show_both_lists(page):
    from playwright.sync_api import expect

    before = for_you(page)
    box = page.locator("#search-text textarea")
    box.fill("cotton dress")
    deadline = time.time() + 180
    while True:
        box.press("Enter")
        try:
            expect(page.locator(RESULTS).first).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            assert time.time() < deadline, "search never became ready"
    for n in range(3):
        title = page.locator(f"{RESULTS} .caption-label").nth(n).inner_text().split(" · ")[0].split(" ", 1)[1]
        page.locator(RESULTS).nth(n).click()
        expect(page.locator("#result-detail")).to_contain_text(title, timeout=30_000)
        expect(page.locator(FOR_YOU).first).to_contain_text("for you:", timeout=30_000)
    for name in ("bought-together", "also-viewed", "similar"):
        expect(page.locator(f"#list-{name} .thumbnail-item").first).to_be_visible(timeout=30_000)
    assert page.locator("#list-bought-together .caption-label").first.inner_text().split(" · ")[-1].strip()
    after = for_you(page)
    # the cold start's first five are one of each kind; after three dresses, the dresses left lead the list
    assert dresses(after[:3]) == 3 > dresses(before[:3])


def test_3_add_to_cart_complete_the_basket_and_buy(page):
    from playwright.sync_api import expect

    page.locator("#add-to-cart").click()
    expect(page.locator("#cart-message")).to_contain_text("to your cart", timeout=30_000)
    expect(page.locator("#complete-basket .thumbnail-item").first).to_be_visible(timeout=30_000)
    expect(page.locator("#cart")).to_contain_text("Your cart")
    page.locator("#buy").click()
    expect(page.locator("#cart-message")).to_contain_text("placed: 1 item (demo, no payment)", timeout=30_000)
    expect(page.locator("#cart")).to_contain_text("empty")


def test_4_no_errors_in_the_page(page):
    assert page.errors == []  # type: ignore[attr-defined]
    assert page.locator(".toast-body.error").count() == 0
