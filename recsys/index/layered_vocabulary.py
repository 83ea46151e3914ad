"""The typo-correction vocabulary of a segmented lexical index: its segments' vocabularies, less the deleted texts.

Each segment builds its own ``Vocabulary`` once; a snapshot's vocabulary adds their word counts and takes away the
words of its deleted (tombstoned) documents, so it corrects exactly as a vocabulary of the live texts would, and
an edit costs the small segments' vocabularies, not the catalog's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from recsys.index.tokenize import has_cjk
from recsys.index.vocabulary import WORD, Vocabulary


def text_words(texts: Iterable[str]) -> Counter[str]:
    """Document frequency of each word of ``texts``, counted as ``Vocabulary`` counts it."""
    out: Counter[str] = Counter()
    for text in texts:
        out.update({w for w in WORD.findall(text.lower()) if not has_cjk(w)})
    return out


class LayeredVocabulary(Vocabulary):
    def __init__(self, parts: Sequence[Vocabulary], removed: Counter[str]) -> None:  # noqa: D107 - no super(): no texts
        self._parts = list(parts)
        total: Counter[str] = Counter()
        for part in self._parts:
            total.update(part.frequency)
        total.subtract(removed)
        self.frequency = +total  # words of live documents only (count > 0)
        self._by_deletion = {}

    def words_for(self, key: str) -> list[str]:
        return [word for part in self._parts for word in part.words_for(key)]
