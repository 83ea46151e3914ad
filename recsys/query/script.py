"""Which script a text is written in: CJK runs (no spaces between words) are read differently from Latin ones."""

from __future__ import annotations

import re

# CJK unified ideographs (+ extension A, compatibility), kana and hangul: the scripts written without spaces.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")


def has_cjk(text: str) -> bool:
    return CJK.search(text) is not None


def stemmer_available() -> bool:
    try:
        import Stemmer  # noqa: F401  (PyStemmer)
    except ImportError:
        return False
    return True
