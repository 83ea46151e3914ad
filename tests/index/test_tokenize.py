"""Chinese and mixed-script text in the lexical index: segmented words match, Latin words are stemmed as before."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.index.lexical import BM25Index
from recsys.index.tokenize import Tokenizer, bigrams, has_cjk
from recsys.index.vocabulary import Vocabulary

TITLES = ["红色真丝连衣裙", "Nike 男士黑色跑鞋", "女士蓝色牛仔裤", "Men Red Running Shoes", "黑色皮革钱包"]


@pytest.mark.parametrize("segmenter", ["rjieba", "bigram"])
def test_chinese_words_are_split_out_of_a_run(segmenter):
    tokens = Tokenizer("none", segmenter)("Nike男士跑鞋 的")
    assert tokens[0] == "nike" and "男士" in tokens and "跑鞋" in tokens
    assert "的" not in tokens  # a function word


def test_search_mode_keeps_a_word_and_its_parts():
    tokens = Tokenizer("none", "rjieba")("红色连衣裙")
    assert {"红色", "连衣裙", "衣裙"} <= set(tokens)


def test_latin_words_are_stemmed_as_before():
    assert Tokenizer("english", "rjieba", translate=False)("Red Running Shoes 跑鞋") == ["red", "run", "shoe", "跑鞋"]


def test_chinese_phrases_add_their_english_words():
    assert Tokenizer("english", "rjieba")("跑鞋") == ["跑鞋", "sport", "shoe"]  # lexicon: 跑鞋 -> sports shoes


def test_english_queries_find_chinese_titles():
    index = BM25Index()
    index.build(np.arange(len(TITLES)), TITLES)
    _, ids = index.search("red dress", 5)
    assert ids[0] == 0  # 红色真丝连衣裙
    _, ids = index.search("男士跑鞋", 5)
    assert ids[0] == 1 and 3 not in ids  # queries are not translated here: the search path expands them
    _, ids = index.search("男士跑鞋 men sports shoes", 5)
    assert set(ids[:2].tolist()) == {1, 3}  # the Chinese title and "Men Red Running Shoes"


@pytest.mark.parametrize("segmenter", ["rjieba", "bigram"])
def test_chinese_queries_find_chinese_titles(segmenter):
    index = BM25Index(segmenter=segmenter)
    index.build(np.arange(len(TITLES)), TITLES)
    _, ids = index.search("连衣裙", 3)
    assert ids[0] == 0 and (ids[1:] == -1).all()  # no other title shares a word with it
    _, ids = index.search("男士跑鞋", 5)
    assert ids[0] == 1
    _, ids = index.search("running shoes", 5)  # English still matches English
    assert ids[0] == 3


def test_cjk_words_are_never_typo_corrected():
    index = BM25Index()
    index.build(np.arange(len(TITLES)), TITLES)
    assert index.unknown_words("绿色连衣裙 jeens") == ["jeens"]
    vocabulary = Vocabulary(TITLES)
    assert "红色真丝连衣裙" not in vocabulary and vocabulary.correction("红色真丝连衣") is None


def test_saved_index_keeps_its_segmenter(tmp_path):
    index = BM25Index(segmenter="bigram")
    index.build(np.arange(len(TITLES)), TITLES)
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    assert loaded is not None and loaded.tokenizer.segmenter == "bigram"
    np.testing.assert_array_equal(loaded.search("跑鞋", 2)[1], index.search("跑鞋", 2)[1])


def test_helpers():
    assert has_cjk("Nike 男士") and not has_cjk("Nike men")
    assert bigrams("红色裙") == ["红", "色", "裙", "红色", "色裙"]
