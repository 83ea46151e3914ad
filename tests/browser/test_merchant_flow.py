"""The merchant flow in Debian's Chromium over the real Merchant tab (marked browser): an item added without an image
is listed with the placeholder and no price, a double click of Save adds one item, delete asks first, and after the
newest item is deleted the next one gets a new id. The catalog service runs without models."""

from __future__ import annotations

import gradio as gr
import pytest

from recsys.accounts.principal import SYSTEM
from recsys.service.catalog import CatalogService
from recsys.ui import merchant_tab
from tests.browser.app_process import chromium_page, free_port, require_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_chromium()
    from recsys.config import Settings

    data_dir = tmp_path_factory.mktemp("merchant") / "data"
    service = CatalogService(Settings.from_env({"data_dir": data_dir, "demo_limit": 0}, environ={}))
    service.identity.add_user(SYSTEM, "tote-shop", "merchant", "tote-shop-pass")
    signed_in = service.identity.sign_in("tote-shop", "tote-shop-pass")  # the page acts as this merchant
    with gr.Blocks() as demo:
        with gr.Tab("Merchant"):
            merchant_tab.build(demo, service, gr.State(signed_in))
    port = free_port()
    demo.queue().launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        allowed_paths=[str(service.settings.image_dir)],
    )
    yield f"http://127.0.0.1:{port}/", service
    demo.close()
    service.close()


@pytest.fixture
def page(app):
    with chromium_page(app[0], 1400, 1000) as page:
        yield page


def add_item(page, title: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Add an item").click()
    page.get_by_label("Title *").fill(title)
    status = page.locator("[data-testid=markdown]", has_text="Saved item")
    page.get_by_role("button", name="Save item").click()
    expect(status).to_contain_text(title, timeout=30_000)


def test_merchant_adds_lists_and_deletes_items(page, app):
    from playwright.sync_api import expect

    _, service = app
    page.get_by_role("tab", name="Merchant").click()
    page.get_by_label("Title *").fill("Bare canvas tote")
    save = page.get_by_role("button", name="Save item")
    save.dblclick()  # two clicks as fast as a hand makes them
    expect(page.locator("[data-testid=markdown]", has_text="Saved item")).to_be_visible(timeout=30_000)
    expect(page.get_by_label("Title *")).to_have_value("", timeout=10_000)  # the form cleared itself
    save.click()  # a later click finds the form empty
    expect(page.locator("[data-testid=markdown]", has_text="Nothing to save")).to_be_visible(timeout=30_000)
    items = service.browse().items
    assert [i.title for i in items] == ["Bare canvas tote"]
    assert items[0].price is None  # the empty price field stored no price, not 0.00
    first_id = items[0].id

    page.get_by_role("tab", name="My items").click()
    thumbnail = page.locator("#my-items .thumbnail-item img").first
    expect(thumbnail).to_be_visible(timeout=30_000)
    assert "taillift-no-image" in (thumbnail.get_attribute("src") or "")
    # The picture loads (visible comes first: on a loaded runner the bytes arrived later than the check).
    page.wait_for_function(
        "() => { const img = document.querySelector('#my-items img'); return img && img.naturalWidth > 0; }",
        timeout=30_000,
    )
    expect(page.locator("#my-items")).to_contain_text(f"#{first_id} Bare canvas tote")

    page.locator("#my-items .thumbnail-item").first.click()  # pick the item from the list, no number typed
    expect(page.get_by_label("Title", exact=True)).to_have_value("Bare canvas tote", timeout=30_000)
    page.get_by_role("button", name="Delete item").click()
    expect(page.get_by_text("This cannot be undone")).to_be_visible(timeout=30_000)
    assert service.stats()["items"] == 1  # asking deleted nothing
    page.get_by_role("button", name="Yes, delete it").click()
    expect(page.locator("[data-testid=markdown]", has_text=f"Deleted item #{first_id}")).to_be_visible(timeout=30_000)
    assert service.stats()["items"] == 0

    add_item(page, "Second tote")  # the newest item was deleted: its id must not come back
    (second,) = service.browse().items
    assert second.id > first_id
    expect(page.locator("[data-testid=markdown]", has_text=f"Saved item #{second.id}")).to_be_visible()


def test_bulk_upload_shows_its_format_and_the_template(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Merchant").click()
    page.get_by_role("tab", name="Bulk upload").click()
    help_text = page.locator("#bulk-format")
    expect(help_text).to_contain_text("required", timeout=30_000)
    expect(help_text).to_contain_text("sku-002,Canvas tote bag")
    download = page.get_by_role("button", name="Download the template CSV")
    expect(download).to_be_visible()
    with page.expect_download() as got:
        download.click()
    assert got.value.suggested_filename == "catalog_template.csv"
