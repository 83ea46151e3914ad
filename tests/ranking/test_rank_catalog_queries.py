"""Generated catalog queries and their weak graded labels."""

import numpy as np

from recsys.ranking.catalog_queries import generate_queries, title_query
from recsys.ranking.labels import graded_attribute_labels


def catalog(n=40):
    rng = np.random.default_rng(0)
    types = rng.choice(["Dresses", "Shirts", "Casual Shoes"], n)
    colours = rng.choice(["Navy Blue", "Red", ""], n)
    genders = rng.choice(["Women", "Men", "Unisex"], n)
    titles = [f"Brand{i} {g} {c} {t}".replace("  ", " ") for i, (g, c, t) in enumerate(zip(genders, colours, types))]
    return np.arange(100, 100 + n), titles, types, colours, genders


def test_only_allowed_items_are_query_sources_and_texts_are_distinct():
    ids, titles, types, colours, genders = catalog()
    allowed = np.arange(len(ids)) % 3 == 0
    queries = generate_queries(ids, titles, types, colours, genders, allowed, max_queries=100, seed=1)
    assert queries and {q.source_item_id for q in queries} <= set(ids[allowed].tolist())
    assert len({q.text for q in queries}) == len(queries)
    assert {q.kind for q in queries} == {"attributes", "title"}
    again = generate_queries(ids, titles, types, colours, genders, allowed, max_queries=100, seed=1)
    assert [q.text for q in again] == [q.text for q in queries]  # seeded


def test_attribute_phrase_names_only_what_it_says():
    ids, titles, types, colours, genders = catalog()
    for q in generate_queries(ids, titles, types, colours, genders, np.ones(len(ids), bool), 100, seed=2):
        assert q.attributes["article_type"].lower() in q.text or q.kind == "title"
        if "colour" in q.attributes:
            assert q.attributes["colour"].lower() in q.text
        if "gender" in q.attributes:
            assert q.attributes["gender"].lower() in q.text.split()


def test_title_query_drops_words_and_keeps_order():
    q = title_query("Turtle Check Men Navy Blue Shirt", "Shirts", "Navy Blue", "Men", np.random.default_rng(0))
    words = q.text.split()
    full = "turtle check men navy blue shirt".split()
    assert 2 <= len(words) < len(full) and words == [w for w in full if w in words]


def test_graded_attribute_labels():
    items = {
        "article_type": np.array(["Dresses", "dresses", "Dresses", "Shirts", "Dresses"]),
        "colour": np.array(["Blue", "Red", "Red", "Blue", ""]),
        "gender": np.array(["Women", "Women", "Men", "Women", "Women"]),
    }
    labels = graded_attribute_labels({"article_type": "Dresses", "colour": "blue", "gender": "Women"}, items)
    np.testing.assert_array_equal(labels.values, [3, 2, 1, 0, 2])
    assert labels.weak and labels.source == "attribute-agreement"
    only_type = graded_attribute_labels({"article_type": "Dresses"}, items)
    np.testing.assert_array_equal(only_type.values, [1, 1, 1, 0, 1])
