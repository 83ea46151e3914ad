"""The text a search actually runs: trimmed when too long, typos corrected against the catalog's own words.

* Trimming: the text encoders read a few hundred word pieces at most and a shopper's query is a few words, so a
  query past ``MAX_QUERY_CHARS`` is cut at the last space before it (a pasted page would otherwise be searched
  silently by its first part only, or spend seconds in BM25); the response says so.
* Typos: a word that no catalog text contains, even stemmed (one dictionary lookup per word, so correct queries
  pay nothing), is replaced by the closest catalog word (``recsys.index.vocabulary``: edit distance 1-2 by
  length, the more frequent word on a tie). The response keeps the original next to the corrected text.
* Expansion: the English words of a Chinese query's understood phrases ("红色连衣裙" -> red, dresses;
  ``query_understanding``) are added to the searched text, so BM25 and the text features match English titles too;
  words the query already has (stemmed) are not added twice.
* Not understood: a text query with no word in any item and no item close in meaning (best MiniLM cosine under
  ``UNDERSTOOD_SIMILARITY``; measured on the small test catalog: real queries 0.58-0.64, key mashes and
  off-catalog words 0.04-0.24) gets a hint instead of a list that looks like an answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from recsys.index.lexical import BM25Index
from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.vocabulary import WORD
from recsys.query.understanding import stems

MAX_QUERY_CHARS = 256
UNDERSTOOD_SIMILARITY = 0.3
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class QueryText:
    original: str  # as typed (stripped)
    typed: str  # the part of it searched: all of it, or its first MAX_QUERY_CHARS when it was longer
    searched: str  # ``typed`` with typos corrected (and the expansion added): what recall ran
    corrections: tuple[tuple[str, str], ...] = ()  # (typed word, catalog word) in query order
    expansion: tuple[str, ...] = ()  # English words added for understood Chinese phrases (the end of ``searched``)

    @property
    def corrected_text(self) -> str:
        """``typed`` with its typos corrected, without the expansion: what the shopper is told was searched."""
        return self.searched[: len(self.searched) - len(" ".join(self.expansion))].rstrip()

    def expanded(self, terms: Sequence[str]) -> QueryText:
        """This text with ``terms`` added at the end, leaving out words it already has (compared stemmed)."""
        have = set(stems(self.searched))
        new = [t for t in dict.fromkeys(terms) if t and not set(stems(t)) <= have]
        if not new:
            return self
        return replace(self, searched=f"{self.searched} {' '.join(new)}".strip(), expansion=tuple(new))

    @property
    def trimmed(self) -> bool:
        return self.typed != self.original

    @property
    def corrected(self) -> bool:
        return bool(self.corrections)


def trim(text: str, limit: int = MAX_QUERY_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, at the last whitespace when there is one in its second half."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    spaces = [m.start() for m in _SPACE.finditer(cut)]
    end = spaces[-1] if spaces and spaces[-1] >= limit // 2 else limit
    return text[:end].rstrip()


def prepare(text: str | None, lexical: BM25Index | SegmentedBM25, correct_typos: bool = True) -> QueryText:
    original = (text or "").strip()
    typed = trim(original)
    corrections: dict[str, str] = {}
    if correct_typos and typed:
        unknown = lexical.unknown_words(typed)
        if unknown:
            vocabulary = lexical.vocabulary()
            for word in unknown:
                better = vocabulary.correction(word)
                if better is not None:
                    corrections[word] = better
    searched = WORD.sub(lambda m: corrections.get(m.group(0).lower(), m.group(0)), typed) if corrections else typed
    return QueryText(original, typed, searched, tuple(corrections.items()))


def understood(bm25: np.ndarray | None, text_similarity: np.ndarray | None) -> bool:
    """False when no candidate contains a query word and none is close in meaning (see the module notes)."""
    if bm25 is not None and len(bm25) and float(np.max(bm25)) > 0:
        return True
    return (
        text_similarity is not None
        and len(text_similarity) > 0
        and float(np.max(text_similarity)) >= UNDERSTOOD_SIMILARITY
    )
