"""The page speaks the browser's language: Chinese for a zh-CN browser, English otherwise (marked browser)."""

from __future__ import annotations

import pytest

from tests.browser.app_process import chromium_page, require_chromium, running_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("bilingual") / "data"
    data_dir.mkdir()
    with running_app(data_dir) as url:
        yield url


@pytest.mark.parametrize(
    ("locale", "words", "absent"),
    [
        ("zh-CN", ["搜索", "商品目录", "商家", "登录"], "Catalog"),
        ("en-US", ["Search", "Catalog", "Merchant", "Sign in"], "商品目录"),
    ],
)
def test_tabs_and_sign_in_in_the_browser_language(app_url, locale, words, absent):
    from playwright.sync_api import expect

    with chromium_page(app_url, locale=locale) as page:
        for word in words:
            expect(page.get_by_role("tab", name=word).or_(page.get_by_role("button", name=word)).first).to_be_visible(
                timeout=30_000
            )
        assert page.get_by_role("tab", name=absent, exact=True).count() == 0
        # No label reaches the page untranslated (the "Try" table once showed raw ``__i18n__{...}`` keys).
        expect(page.get_by_text("navy blue casual shirt").first).to_be_visible(timeout=30_000)
        assert "__i18n__" not in page.locator("body").inner_text()
        # the opened item's list titles too (once given to their galleries as plain English)
        zh = locale == "zh-CN"
        lists = ["相似商品", "经常一起购买", "看过的人还看了"] if zh else ["Similar items", "Often bought together"]
        for title in lists:
            expect(page.get_by_text(title, exact=True).first).to_be_visible(timeout=30_000)
