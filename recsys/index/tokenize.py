"""A small English tokenizer for product titles and queries: lowercase, alphanumeric runs, stopwords, stem.

Stemming uses PyStemmer (Snowball English) when it is installed; it is the stemmer bm25s recommends and
needs no data download. Without it tokens are left unstemmed ("shoes" will not match "shoe"). The name of
the stemmer in use is saved with every lexical index, because queries must be stemmed like the corpus.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from bm25s.tokenization import STOPWORDS_EN

log = logging.getLogger(__name__)

# Single characters are kept on purpose: sizes ("s", "m", "l") and "t" of "t-shirt" are real product words.
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_EN)

STEMMERS = ("english", "none")


def stemmer_available() -> bool:
    try:
        import Stemmer  # noqa: F401  (PyStemmer)
    except ImportError:
        return False
    return True


def resolve_stemmer(name: str) -> str:
    """Map ``"auto"`` to ``"english"`` when PyStemmer is importable, else ``"none"``."""
    if name == "auto":
        if stemmer_available():
            return "english"
        log.info("PyStemmer not installed: lexical search runs without stemming")
        return "none"
    if name not in STEMMERS:
        raise ValueError(f"unknown stemmer {name!r}; expected one of {STEMMERS} or 'auto'")
    if name == "english" and not stemmer_available():
        raise ImportError("stemmer='english' needs PyStemmer (pip install PyStemmer)")
    return name


class Tokenizer:
    """Callable ``text -> list[str]``; deterministic for a given stemmer name."""

    def __init__(self, stemmer: str = "auto") -> None:
        self.stemmer = resolve_stemmer(stemmer)
        self._local = threading.local()  # PyStemmer objects are not thread-safe: one per thread

    def __call__(self, text: str) -> list[str]:
        words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS]
        if self.stemmer == "english":
            words = self._stemmer().stemWords(words)
        return words

    def _stemmer(self) -> Any:  # a PyStemmer Stemmer
        stemmer = getattr(self._local, "stemmer", None)
        if stemmer is None:
            import Stemmer

            stemmer = self._local.stemmer = Stemmer.Stemmer("english")
        return stemmer
