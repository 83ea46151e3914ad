"""Texts built from an item for the joint (CLIP) route and the MiniLM route."""

from __future__ import annotations

from recsys.encoders.content import ItemContent, clip_text, item_bert_text, item_reviews_text


def test_clip_text_keeps_the_leaf_category_and_visual_attributes():
    text = clip_text(
        "Turtle Check Men Navy Blue Shirt",
        "Apparel > Topwear > Shirts",
        {"baseColour": "Navy Blue", "gender": "Men", "season": "Fall"},
    )
    assert text == "Turtle Check Men Navy Blue Shirt. Shirts, Navy Blue, Men"
    assert clip_text("  Plain mug ") == "Plain mug"


def test_bert_text_has_everything_descriptive_and_reviews_are_separate():
    item = ItemContent("1", "Mug", "Holds tea", "Kitchen", {"material": "stoneware", "size": ""}, ["Lovely", " "])
    assert item_bert_text(item) == "Mug. Kitchen. material: stoneware. Holds tea"
    assert item_reviews_text(item) == "Lovely"
