"""Query understanding against the served catalog: its facet values (colour, gender, article type) as vocabulary.

The parser and the bilingual lexicon live in ``recsys.query.understanding``; this is what the search path adds: the
vocabulary of one item table, built once per table (tables are immutable: every catalog change builds a new one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recsys.query.understanding import CatalogVocabulary, Understanding, understand


class VocabularyCache:
    """One catalog vocabulary per item table (tables are immutable: a new one is built on every change)."""

    def __init__(self) -> None:
        self._cached: tuple[object, CatalogVocabulary] | None = None

    def get(self, table: Any) -> CatalogVocabulary:
        cached = self._cached
        if cached is not None and cached[0] is table:
            return cached[1]
        vocabulary = CatalogVocabulary.from_values(
            {"colour": set(table.colour), "gender": set(table.gender), "type": set(table.leaf)}
        )
        self._cached = (table, vocabulary)
        return vocabulary


_VOCABULARIES = VocabularyCache()


def read(text: str, table: Any, enabled: bool = True, ignored: Iterable[str] = ()) -> Understanding:
    """The understanding of ``text`` against the item table's facet values (empty when ``enabled`` is False)."""
    if not enabled or not (text or "").strip():
        return Understanding(ignored=tuple(ignored))
    return understand(text, _VOCABULARIES.get(table), ignored=ignored)
