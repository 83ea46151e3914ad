"""BM25Index: ranking, score() consistency with search, filters, lazy edits, tokenizer/stemming."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.index.lexical import BM25Index
from recsys.index.tokenize import Tokenizer, stemmer_available

IDS = np.array([11, 22, 33, 44, 55], dtype=np.int64)
TEXTS = [
    "Blue denim jeans for men",
    "Red floral summer dress",
    "Black leather ankle boots",
    "Red dress shoes with heel",
    "Grey cotton t-shirt",
]


@pytest.fixture
def index() -> BM25Index:
    built = BM25Index(stemmer="none")
    built.build(IDS, TEXTS)
    return built


def test_doc_with_all_query_words_ranks_first(index):
    scores, ids = index.search("red summer dress", 5)
    assert ids[0] == 22 and ids[1] == 44
    assert (ids[2:] == -1).all() and (scores[2:] == 0).all()  # non-matching docs are never returned
    assert scores.dtype == np.float32 and ids.dtype == np.int64 and scores[0] > scores[1] > 0


def test_score_matches_search(index):
    scores, ids = index.search("red leather dress", 3)
    np.testing.assert_array_equal(index.score("red leather dress", ids), scores)
    assert index.score("red leather dress", np.array([11, 999])).tolist() == [0.0, 0.0]


def test_allowed_ids_filter(index):
    _, ids = index.search("red dress", 5, allowed_ids=np.array([44, 55]))
    assert ids.tolist() == [44, -1, -1, -1, -1]


def test_edits_apply_on_next_search(index):
    index.add([66, 22], ["red kimono", "green parka"])  # 22 replaced
    assert index.remove([44, 12345]) == 1
    _, ids = index.search("red", 5)
    assert ids[ids >= 0].tolist() == [66]
    assert len(index) == 5 and 44 not in index.ids()


def test_query_without_known_words(index):
    scores, ids = index.search("the of and", 3)  # only stopwords
    assert (ids == -1).all() and (scores == 0).all()
    assert (index.score("zzzz", IDS) == 0).all()


def test_tokenizer_keeps_sizes_and_drops_stopwords():
    assert Tokenizer("none")("The XL T-Shirt, size M!") == ["xl", "t", "shirt", "size", "m"]


@pytest.mark.skipif(not stemmer_available(), reason="PyStemmer not installed")
def test_stemming_matches_plural_and_singular():
    index = BM25Index(stemmer="english")
    index.build([1, 2], ["running shoes", "dresses"])
    assert index.search("shoe", 1)[1].tolist() == [1]
    assert index.search("dress", 1)[1].tolist() == [2]


def test_corpus_without_any_token_scores_zero():
    from recsys.index.lexical import BM25Index

    index = BM25Index()
    index.build([1, 2], ["", "  "])
    scores, ids = index.search("anything", 5)
    assert (ids == -1).all() and index.score("anything", [1, 2]).tolist() == [0.0, 0.0]
