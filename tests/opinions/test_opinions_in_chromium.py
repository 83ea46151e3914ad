"""In Debian's Chromium over the real Search and Merchant tabs (marked browser): an opened item shows its opinion
summary with quotes, and the merchant's Opinions tab shows the complaints table and the sentences behind it."""

from __future__ import annotations

import gradio as gr
import pytest

from recsys.accounts.principal import SHOPPER, SYSTEM, Principal
from recsys.config import Settings
from recsys.service.opinions import Opinions
from recsys.service.taillift import TailLiftService
from recsys.ui import merchant_tab, search_tab
from tests.browser.app_process import chromium_page, free_port, require_chromium
from tests.opinions.conftest import MINILM
from tests.opinions.fixture_reviews import PILLING, PLAIN, REVIEWS, SWEATER, TIGHT
from tests.small_catalog import fill_small_catalog

pytestmark = pytest.mark.browser
TITLES = {
    TIGHT: "Red cotton dress",
    SWEATER: "Blue cotton shirt",
    PILLING: "Green cotton shirt",
    PLAIN: "Black cotton dress",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_chromium()
    root = tmp_path_factory.mktemp("opinions-ui")
    settings = Settings.from_env(
        {
            "data_dir": root / "data",
            "demo_limit": 0,
            "demo_reviews_path": root / "none.csv",
            "opinion_text_model": MINILM,
        },
        environ={},
    )
    service = TailLiftService(settings)
    fill_small_catalog(service)
    by_title = {item.title: item.id for item in service.get_items(range(1, 31), with_reviews=False).values()}
    for k, (name, rating, title, text) in enumerate(REVIEWS):
        service.add_review(Principal(f"shopper{k}", SHOPPER), by_title[TITLES[name]], rating, title, text)
    service.load_models()
    service.opinions = Opinions(service.store, settings)
    service.opinions.build()
    service.identity.add_user(SYSTEM, "root", "admin", "root-password")
    token = service.identity.sign_in("root", "root-password")
    with gr.Blocks() as demo:
        with gr.Tab("Search"):
            search_tab.build(demo, service, gr.State(token))
        with gr.Tab("Merchant"):
            merchant_tab.build(demo, service, gr.State(token))
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()
    service.close()


def test_item_page_and_merchant_view_show_opinions(app):
    from playwright.sync_api import expect

    with chromium_page(app) as page:
        page.locator("#search-text textarea").fill("red cotton dress")
        page.locator("#search-text textarea").press("Enter")
        first = page.locator("#results .thumbnail-item").first
        expect(first).to_be_visible(timeout=60_000)
        first.click()
        panel = page.locator("#item-opinions")
        expect(panel).to_contain_text("What reviewers say", timeout=30_000)
        expect(panel).to_contain_text("runs small")
        expect(panel).to_contain_text("“")

        page.get_by_role("tab", name="Merchant").click()
        page.get_by_role("tab", name="Opinions").click()
        page.get_by_role("button", name="Show opinions of my items").click()
        expect(page.get_by_text("Opinions in the reviews of")).to_be_visible(timeout=30_000)
        expect(page.locator("table").filter(has_text="complaints").first).to_contain_text("Quality", timeout=30_000)
        page.get_by_role("button", name="Show the sentences").click()
        expect(page.locator("#opinion-sentences")).to_contain_text("negative sentences about Fit", timeout=30_000)
