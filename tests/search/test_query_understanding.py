"""Understood query parts as soft boosts over a served catalog's items; the vocabulary is the table's facets."""

from __future__ import annotations

import numpy as np

from recsys.query.understanding import understand
from recsys.search.query_understanding import VocabularyCache
from recsys.search.query_understanding_boost import attribute_matches, match_score
from recsys.search.types import SearchRequest


class Table:  # the columns attribute_matches reads from an ItemTable
    colour = np.array(["Red", "Blue", "", "Red"], dtype=object)
    gender = np.array(["Women", "Women", "Women", "Unisex"], dtype=object)
    leaf = np.array(["Dresses", "Dresses", "Dresses", "Watches"], dtype=object)
    price = np.array([400, 400, np.nan, 900], dtype=np.float32)


def test_matches_are_soft_unknown_counts_half():
    matches = attribute_matches(
        understand("women red dress under 500", VocabularyCache().get(Table())), Table(), np.arange(4)
    )  # type: ignore[arg-type]
    assert matches[0].tolist() == [1, 1, 1, 1]
    assert matches[1].tolist() == [0, 1, 1, 1]
    assert np.isnan(matches[2, 0]) and np.isnan(matches[2, 3])  # no colour, no price: unknown
    assert matches[3].tolist() == [1, 1, 0, 0]  # unisex counts for women
    assert match_score(matches).tolist() == [1.0, 0.75, 0.75, 0.5]


def test_the_vocabulary_is_the_tables_own_and_cached_per_table():
    cache, table = VocabularyCache(), Table()
    vocabulary = cache.get(table)
    assert cache.get(table) is vocabulary and cache.get(Table()) is not vocabulary
    assert vocabulary.resolve("type", "watch") == ("Watches",) and vocabulary.resolve("colour", "navy blue") == ()


def test_only_the_served_page_is_explained_and_the_boost_note_follows_the_sentence(small_search_service, monkeypatch):
    """Explaining is the costly part at 40k items (TreeSHAP per row): a search explains its page, not its recall."""
    ranking = small_search_service.engine.ranking
    explained: list[int] = []
    words = ranking._text_words
    monkeypatch.setattr(ranking, "_text_words", lambda X, order: explained.append(len(order)) or words(X, order))
    response = small_search_service.search(SearchRequest(text="red shirt", k=4, log=False))
    assert response.understood and response.candidates > 4
    assert explained == [4]
    sentences = [h.explanation for h in response.hits]
    assert all(s.startswith(("ranked here", "ordered by")) for s in sentences)
    assert any(s.endswith("; matches the query's colour, type") for s in sentences)
