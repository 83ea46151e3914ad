"""Merchant text shows in the browser exactly as typed, escaped once: the real Catalog and Merchant tabs over a
catalog service (no models needed), served by Gradio and read back from Chromium (marked browser)."""

from __future__ import annotations

import gradio as gr
import pytest

from recsys.accounts.principal import SYSTEM
from recsys.service.catalog import CatalogService
from recsys.ui import catalog_tab, merchant_tab
from tests.browser.app_process import chromium_page, free_port, require_chromium
from tests.small_catalog import photo

pytestmark = pytest.mark.browser

TITLE = "Men's tee <M> & co #1 *not bold* [link](http://x.example) $$x$$ O'Neill"
DESCRIPTION = "- not a list\n    not code\n1. not numbered www.example.com a@b.example"
REVIEW_TEXT = 'It\'s 5 < 6 & "great" <b>'


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_chromium()
    from recsys.config import Settings

    data_dir = tmp_path_factory.mktemp("rendering") / "data"
    service = CatalogService(Settings.from_env({"data_dir": data_dir, "demo_limit": 0}, environ={}))
    item = service.add_item(
        SYSTEM,
        {
            "title": TITLE,
            "description": DESCRIPTION,
            "brand": "O'Neill",
            "attributes": {"size": "<M>"},
            "reviews": [{"rating": 4, "title": "Don't shrink", "text": REVIEW_TEXT}],
        },
        [photo((200, 20, 20))],
    )
    service.identity.add_user(SYSTEM, "renderer", "merchant", "rendering-pass")
    signed_in = service.identity.sign_in("renderer", "rendering-pass")  # the page acts as this merchant
    with gr.Blocks() as demo:
        with gr.Tab("Catalog"):
            catalog_tab.build(demo, service)
        with gr.Tab("Merchant"):
            merchant_tab.build(demo, service, gr.State(signed_in))
    port = free_port()
    demo.queue().launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        allowed_paths=[str(service.settings.image_dir)],
    )
    yield f"http://127.0.0.1:{port}/", item
    demo.close()
    service.close()


@pytest.fixture
def page(app):
    with chromium_page(app[0], 1400, 1200) as page:
        yield page


def test_item_detail_shows_merchant_text_exactly_once(page, app):
    from playwright.sync_api import expect

    thumbnails = page.locator(".thumbnail-item")
    expect(thumbnails.first).to_be_visible(timeout=30_000)
    thumbnails.first.click()
    detail = page.locator("[data-testid=markdown]", has=page.locator("h3"))
    expect(detail).to_contain_text("Reviews (1)", timeout=30_000)
    assert detail.locator("h3").inner_text() == TITLE
    text = detail.inner_text()
    for typed in (
        "- not a list",
        "not code",
        "1. not numbered www.example.com a@b.example",
        "Brand: O'Neill",
        "size: <M>",
        "Don't shrink",
        REVIEW_TEXT,
    ):
        assert typed in text, (typed, text)
    assert "&#" not in text and "&amp;" not in text and "&lt;" not in text
    # Nothing the merchant typed became markup (lists, code, links, emphasis, math): only the tab's own tags.
    assert detail.locator("h3 *").count() == 0
    description = detail.locator("p", has_text="not a list").inner_html()
    assert "<" not in description.replace("<br>", ""), description
    review = detail.locator("li").inner_html()
    assert review.count("<") == 2 and "<strong>Don't shrink</strong>" in review, review  # the title's bold


def test_merchant_messages_echo_text_once(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Merchant").click()
    title = page.get_by_label("Title *")
    title.fill("Kids tee size <M> & Men's")
    page.get_by_role("button", name="Save item").click()
    status = page.locator("[data-testid=markdown]", has_text="Saved item")
    expect(status).to_be_visible(timeout=30_000)
    assert "“Kids tee size <M> & Men's”" in status.inner_text()
    title.fill("<script>alert(1)</script>")
    page.get_by_role("button", name="Save item").click()
    refused = page.locator("[data-testid=markdown]", has_text="Nothing was saved")
    expect(refused).to_contain_text("title contains HTML markup; plain text only", timeout=30_000)
    assert "&#" not in refused.inner_text()
