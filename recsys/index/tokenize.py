"""Tokenizer for product titles and queries in English and Chinese (mixed scripts too: "Nike 男士跑鞋").

Text is split into runs of letters/digits. A run of Latin script (or digits) is lowercased, stopwords are dropped
and it is stemmed; a run holding CJK characters is segmented into words, since Chinese has no spaces and a whole
title would otherwise be one token that no query matches.

* Stemming uses PyStemmer (Snowball English) when it is installed; it is the stemmer bm25s recommends and needs no
  data download. Without it tokens are left unstemmed ("shoes" will not match "shoe").
* Translation: the lexicon phrases of a CJK run (``recsys.query.understanding.english_words``: colours, genders,
  article types) add their English words, so "purple dress" finds "紫色连衣裙". The BM25 index translates item
  texts only; a Chinese query reaches English titles through the search path's expansion
  (``recsys.search.query_text``), which leaves out what the shopper removed (a chip).
* Segmentation uses rjieba (the Rust jieba-rs binding, ~1 µs per short title) in search mode: a word and its
  dictionary sub-words ("连衣裙" -> 连衣, 衣裙, 连衣裙), so "裙" style partial queries and whole words both match.
  Without rjieba, CJK runs fall back to overlapping character bigrams plus single characters (what Lucene's
  CJK analyzer does): coarser, but no Chinese text is unsearchable.

The stemmer's and the segmenter's names are saved with every lexical index: queries must be split like the corpus.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from bm25s.tokenization import STOPWORDS_EN

from recsys.query.script import CJK, has_cjk, stemmer_available
from recsys.query.understanding import english_words

log = logging.getLogger(__name__)

# Single characters are kept on purpose: sizes ("s", "m", "l") and "t" of "t-shirt" are real product words.
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_EN)
# Function words and measure words that carry no product meaning (的 "of", 和 "and", 款 "style", 件 "piece").
_STOPWORDS_ZH = frozenset("的 了 和 与 及 或 是 在 也 都 就 很 一 个 件 款 条 双 只 把 给 我 要 买 有 吗 呢".split())

STEMMERS = ("english", "none")
SEGMENTERS = ("rjieba", "bigram")


def segmenter_available() -> bool:
    try:
        import rjieba  # noqa: F401
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


def resolve_segmenter(name: str) -> str:
    """Map ``"auto"`` to ``"rjieba"`` when it is importable, else ``"bigram"``."""
    if name == "auto":
        if segmenter_available():
            return "rjieba"
        log.info("rjieba not installed: Chinese text is split into character bigrams")
        return "bigram"
    if name not in SEGMENTERS:
        raise ValueError(f"unknown segmenter {name!r}; expected one of {SEGMENTERS} or 'auto'")
    if name == "rjieba" and not segmenter_available():
        raise ImportError("segmenter='rjieba' needs rjieba (pip install rjieba)")
    return name


def bigrams(run: str) -> list[str]:
    """Single characters and overlapping pairs of a CJK run."""
    return list(run) + [run[i : i + 2] for i in range(len(run) - 1)]


class Tokenizer:
    """Callable ``text -> list[str]``; deterministic for a given stemmer and segmenter name."""

    def __init__(self, stemmer: str = "auto", segmenter: str = "auto", translate: bool = True) -> None:
        self.stemmer = resolve_stemmer(stemmer)
        self.segmenter = resolve_segmenter(segmenter)
        self.translate = translate
        self._local = threading.local()  # PyStemmer objects are not thread-safe: one per thread

    def __call__(self, text: str, translate: bool | None = None) -> list[str]:
        """``translate`` None: as configured; False: leave the lexicon's English words out (BM25 queries: the
        search path adds a query's translation itself, honouring what the shopper removed)."""
        translate = self.translate if translate is None else translate
        words: list[str] = []
        for run in _TOKEN.findall(text.lower()):
            if not has_cjk(run):
                if run not in _STOPWORDS:
                    words.append(run)
                continue
            # A run may mix scripts without a space ("nike男士"): Latin parts stay words, CJK parts are segmented.
            start = 0
            for match in CJK.finditer(run):
                if match.start() > start:
                    words.append(run[start : match.start()])
                words.extend(w for w in self._segment(match.group(0)) if w not in _STOPWORDS_ZH)
                if translate:  # the run's lexicon phrases in English: an English query finds a Chinese title
                    translated = (w for e in english_words(match.group(0)) for w in e.lower().split())
                    words.extend(w for w in translated if w not in _STOPWORDS)
                start = match.end()
            if start < len(run):
                words.append(run[start:])
        if self.stemmer == "english":
            words = self._stemmer().stemWords(words)  # Snowball leaves CJK words as they are
        return words

    def _segment(self, run: str) -> list[str]:
        if self.segmenter == "rjieba":
            import rjieba

            return [w for w in rjieba.cut_for_search(run) if w.strip()]
        return bigrams(run)

    def _stemmer(self) -> Any:  # a PyStemmer Stemmer
        stemmer = getattr(self._local, "stemmer", None)
        if stemmer is None:
            import Stemmer

            stemmer = self._local.stemmer = Stemmer.Stemmer("english")
        return stemmer
