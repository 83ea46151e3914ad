"""The shopper flow in Debian's Chromium over the real app (marked browser): text search, photo search, a photo
that changes a text search, an opened result in view, facets with "More", Clear, and the search's notices."""

from __future__ import annotations

import time

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.config import Settings
from recsys.service.taillift import TailLiftService
from recsys.ui.search_facets import FACET_SHOWN
from tests.browser.app_process import CHROMIUM, require_chromium, running_app
from tests.small_catalog import COLOURS, fill_small_catalog, photo

pytestmark = pytest.mark.browser
# Six more article types than the small catalog's five: the category facet has more than FACET_SHOWN values.
EXTRA_TYPES = ["Scarves", "Belts", "Caps", "Socks", "Gloves", "Ties"]
RESULTS = "#results .thumbnail-item"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("shopper") / "data"
    catalog = TailLiftService(Settings.from_env({"data_dir": data_dir}, environ={}))
    fill_small_catalog(catalog)
    for n, kind in enumerate(EXTRA_TYPES):
        fields = {"title": f"Grey wool {kind.lower()}", "category": f"Accessories > {kind}"}
        fields["attributes"] = {"articleType": kind, "baseColour": "Grey", "gender": "Men"}
        if n:  # the first has no price and no image
            fields["price"] = 5 + n
        catalog.add_item(SYSTEM, fields, [photo((120 + n, 120, 120))] if n else [])
    catalog.close()
    with running_app(data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(app_url)
        yield page
        browser.close()


def captions(page) -> list[str]:
    return page.locator(f"{RESULTS} .caption-label").all_inner_texts()


def search(page, text: str) -> None:
    """Type ``text`` and press Enter (each caller then waits for what this search must show)."""
    page.locator("#search-text textarea").fill(text)
    page.locator("#search-text textarea").press("Enter")


def in_viewport(locator) -> bool:
    # Scrolled to its top, an element may sit a subpixel above 0.
    return locator.evaluate("e => { const r = e.getBoundingClientRect(); return r.top > -2 && r.top < innerHeight; }")


def test_1_text_search_with_full_captions(page):
    from playwright.sync_api import expect

    box = page.locator("#search-text textarea")
    box.fill("cotton shirt")
    deadline = time.time() + 180  # the page is up while the start-up still builds the index
    while True:
        box.press("Enter")
        try:
            expect(page.locator(RESULTS).first).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            assert time.time() < deadline, "search never became ready"
    shown = captions(page)
    assert shown[0].endswith("cotton shirt · 15.00 USD · text match"), shown[0]
    label = page.locator(f"{RESULTS} .caption-label").first
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth && getComputedStyle(e).whiteSpace !== 'nowrap'")
    # The caption sits below the photo, not over it: the shopper sees the whole product.
    covered = page.locator(RESULTS).first.evaluate(
        "e => e.querySelector('.caption-label').getBoundingClientRect().top"
        " - e.querySelector('img').getBoundingClientRect().bottom"
    )
    assert covered >= -1, f"the caption covers the photo's bottom {-covered:.0f} px"


def test_2_photo_search_then_a_photo_that_changes_a_text_search(page, tmp_path):
    from playwright.sync_api import expect

    text_only = captions(page)  # test 1's "cotton shirt"
    green = tmp_path / "green.jpg"
    green.write_bytes(photo(COLOURS["green"]))
    page.locator("#search-text textarea").fill("")
    page.locator("#search-photo input[type=file]").set_input_files(str(green))  # an upload searches at once
    first = page.locator(f"{RESULTS} .caption-label").first
    expect(first).to_contain_text("photo match", timeout=60_000)
    assert " Green " in captions(page)[0]
    search(page, "cotton shirt")  # the photo stays: text + photo
    expect(first).to_contain_text("text + photo match", timeout=60_000)
    both = captions(page)
    assert both[0].split(" · ")[0].endswith("Green cotton shirt")
    assert both != text_only


def test_3_an_opened_result_is_in_view(page):
    from playwright.sync_api import expect

    first = captions(page)[0].split(" · ")[0].split(" ", 1)[1]
    page.locator(RESULTS).first.click()
    detail = page.locator("#result-detail")
    expect(detail).to_contain_text(first, timeout=30_000)
    page.wait_for_function(
        "() => { const r = document.getElementById('result-detail').getBoundingClientRect();"
        " return r.top > -2 && r.top < innerHeight; }",
        timeout=10_000,
    )
    assert in_viewport(detail)
    page.evaluate("window.scrollTo(0, 0)")


def test_4_facets_show_the_top_values_and_more(page):
    from playwright.sync_api import expect

    page.get_by_role("button", name="Clear").click()
    before = page.locator("#search-status").inner_text()
    search(page, "cotton wool")
    # Its answer folds the facets again: "More" is clicked after it, not before (the last query showed "More (3)"
    # too, and a click before the answer was undone by it on a loaded runner). The status carries its own ms.
    page.wait_for_function("t => document.getElementById('search-status').innerText !== t", arg=before, timeout=30_000)
    values = page.locator("#facet-category label")
    expect(values).to_have_count(FACET_SHOWN, timeout=10_000)
    more = page.locator("#facet-category-more")
    expect(more).to_have_text(f"More ({5 + len(EXTRA_TYPES) - FACET_SHOWN})", timeout=10_000)
    more.click()
    expect(values).to_have_count(5 + len(EXTRA_TYPES), timeout=10_000)
    expect(more).to_have_text("Fewer", timeout=10_000)  # the same event as the count; slower on a loaded runner
    more.click()
    expect(values).to_have_count(FACET_SHOWN, timeout=10_000)


def test_5_clear_resets_ticked_filters(page):
    from playwright.sync_api import expect

    page.locator("#facet-gender label").first.locator("input").check()
    expect(page.locator("#facet-gender input:checked")).to_have_count(1, timeout=10_000)
    page.get_by_role("button", name="Clear").click()
    expect(page.locator("input[type=checkbox]:checked")).to_have_count(0, timeout=10_000)
    expect(page.locator("#search-text textarea")).to_have_value("")
    page.wait_for_timeout(3_000)  # the search the tick started answers meanwhile: it must not tick the box again
    expect(page.locator("input[type=checkbox]:checked")).to_have_count(0)
    # a tick that a search answers stays ticked
    page.locator("#facet-gender label").first.locator("input").check()
    page.wait_for_timeout(3_000)
    expect(page.locator("#facet-gender input:checked")).to_have_count(1)
    page.get_by_role("button", name="Clear").click()
    expect(page.locator("input[type=checkbox]:checked")).to_have_count(0, timeout=10_000)


def test_6_notices_for_typos_and_unpriced_items(page):
    from playwright.sync_api import expect

    status = page.locator("#search-status")
    search(page, "cottn shrt")
    expect(status).to_contain_text("Showing results for “cotton shirt” (you typed “cottn shrt”)", timeout=60_000)
    assert captions(page)[0].split(" · ")[0].endswith("cotton shirt")
    page.get_by_label("Min price (0 = any)").fill("1")
    search(page, "wool scarves")
    expect(status).to_contain_text("1 of ", timeout=60_000)
    expect(status).to_contain_text("have no price and are hidden by the price filter")
    page.get_by_role("button", name="Clear").click()
    search(page, "grey wool scarves")
    first = page.locator(f"{RESULTS} .caption-label").first
    expect(first).to_contain_text("Grey wool scarves", timeout=60_000)  # no image: shown with the placeholder
