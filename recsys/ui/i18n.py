"""Bilingual page text (English, Chinese) through Gradio's i18n.

The browser's language picks the locale and Gradio's Settings panel (page footer) switches it. A key is the English
text itself, so the code reads as the page does and an English page needs no table; ``locales/zh.json`` maps each
key to Chinese. Only the page's own words are translated: item titles, descriptions and reviews are shown as the
merchant or reviewer wrote them. Messages that carry numbers or names are composed server-side and stay English.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import gradio as gr

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
# Browsers send zh-CN (mainland), zh-SG or plain zh for Simplified Chinese; each needs its own entry.
CHINESE_LOCALES = ("zh", "zh-CN", "zh-SG")


@lru_cache(maxsize=1)
def chinese() -> dict[str, str]:
    """English key -> Chinese text."""
    return json.loads((LOCALES_DIR / "zh.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def translations() -> gr.I18n:
    """The table handed to ``Blocks.launch(i18n=...)``."""
    zh = chinese()
    return gr.I18n(en={key: key for key in zh}, **{locale: zh for locale in CHINESE_LOCALES})


def t(text: str) -> gr.i18n.I18nData:
    """``text`` (English) as a key the page shows in the reader's language."""
    return translations()(text)


def english(text: object) -> object:
    """The English of a label as Gradio holds it (a ``t`` key or a plain string); anything else unchanged."""
    return text.key if isinstance(text, gr.i18n.I18nData) else text
