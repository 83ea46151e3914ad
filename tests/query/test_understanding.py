"""Query understanding in English and Chinese: colour, gender, type and price read against a catalog's own values."""

from __future__ import annotations

import pytest

from recsys.query.understanding import CatalogVocabulary, Lexicon, understand

CATALOG = CatalogVocabulary.from_values(
    {
        "colour": ["Red", "Black", "Navy Blue", "Blue", "Grey", "White"],
        "gender": ["Men", "Women", "Boys", "Unisex"],
        "type": ["Dresses", "Shirts", "Tshirts", "Sports Shoes", "Casual Shoes", "Watches", "Handbags", "Jeans"],
    }
)


def read(text: str, ignored: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    return {u.kind: u.catalog_values or (u.value,) for u in understand(text, CATALOG, ignored=ignored).items}


@pytest.mark.parametrize(
    "english, chinese",
    [
        ("red dress", "红色连衣裙"),
        ("men black sports shoes", "男士黑色运动鞋"),
        ("women navy blue shirt", "女士藏青色衬衫"),
        ("grey t-shirt", "灰色T恤"),
    ],
)
def test_the_same_query_reads_the_same_in_both_languages(english, chinese):
    assert read(english) == read(chinese) != {}


def test_english_longest_phrase_synonyms_and_plurals():
    assert read("navy blue casual shirt") == {"colour": ("Navy Blue",), "type": ("Shirts",)}
    assert read("ladies gray tee") == {"gender": ("Women",), "colour": ("Grey",), "type": ("Tshirts",)}
    assert read("analog watch men") == {"type": ("Watches",), "gender": ("Men",)}
    assert read("shoes") == {"type": ("Casual Shoes", "Sports Shoes")}  # a head word names its types
    assert read("leather wallet") == {}  # nothing this catalog has


def test_mixed_script_query():
    understood = understand("Nike 男士跑鞋", CATALOG)
    assert [(u.kind, u.catalog_values) for u in understood.items] == [
        ("gender", ("Men",)),
        ("type", ("Sports Shoes",)),
    ]
    assert understood.expansion == ["men", "sports", "shoes"]  # English words for the lexical route


@pytest.mark.parametrize(
    "text, low, high",
    [
        ("watches under 500", None, 500),
        ("below $50 shoes", None, 50),
        ("dress less than rs. 1,200", None, 1200),
        ("over 2k watches", 2000, None),
        ("between 20 and 40 tee", 20, 40),
        ("500元以下的手表", None, 500),
        ("500以内 T恤", None, 500),
        ("不超过300元的包", None, 300),
        ("1000元以上的手表", 1000, None),
        ("100到300元 女士包", 100, 300),
    ],
)
def test_price_phrases(text, low, high):
    assert understand(text, CATALOG).price_range == (low, high)


def test_numbers_that_are_not_prices_are_left_alone():
    assert understand("levis 501 jeans", CATALOG).price_range == (None, None)


def test_ignored_keys_are_left_out_and_not_expanded():
    full = understand("红色连衣裙", CATALOG)
    assert [u.key for u in full.items] == ["colour:red", "type:dresses"]
    without = understand("红色连衣裙", CATALOG, ignored=("colour:red",))
    assert [u.key for u in without.items] == ["type:dresses"] and without.expansion == ["dresses"]


def test_a_catalog_without_the_value_keeps_only_the_translation():
    understood = understand("红色连衣裙", CatalogVocabulary.from_values({}))
    assert [u.catalog_values for u in understood.items] == [(), ()]
    assert understood.expansion == ["red", "dresses"]


def test_lexicon_is_data_covering_the_fashion_facets():
    lexicon = Lexicon.load()
    english = {english for _, english in lexicon.zh.values()}
    assert {"red", "black", "navy blue", "men", "women", "dresses", "watches", "sports shoes"} <= english
