"""Queries generated from a catalog's own items, for training and measuring a ranker without judgments.

Two kinds, both what a shopper types on a fashion site:
* attribute phrases from an item's structured fields: "[gender] [colour] <article type>", e.g. "women blue
  dresses" (gender and colour each kept with probability 0.7, so broad and narrow intents both appear);
* item titles with one or more words dropped, e.g. "turtle check men shirt" from "Turtle Check Men Navy Blue
  Shirt" (a partial recollection of a product seen before).

Each query records the attributes it names (article type always; colour and gender only when its words are
in the query), which ``labels.graded_attribute_labels`` turns into weak grades. Which items may be query
sources is the caller's mask: training passes the non-held-out items, evaluation the held-out ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

ATTRIBUTES = ("article_type", "colour", "gender")
GENDER_WORDS = {"men": "men", "women": "women", "boys": "boys", "girls": "girls"}  # "unisex" names no one
KEEP_PROBABILITY = 0.7
MIN_TITLE_WORDS = 2  # fewer words than this is not a recollection of one product any more


@dataclass(frozen=True)
class CatalogQuery:
    text: str
    attributes: dict[str, str] = field(default_factory=dict)  # subset of ATTRIBUTES named by the query
    source_item_id: int = -1
    kind: str = "attributes"  # or "title"


def attribute_phrase(article_type: str, colour: str, gender: str, rng: np.random.Generator) -> CatalogQuery:
    attrs = {"article_type": article_type}
    words = []
    gender_word = GENDER_WORDS.get(gender.strip().lower())
    if gender_word and rng.random() < KEEP_PROBABILITY:
        words.append(gender_word)
        attrs["gender"] = gender
    if colour.strip() and rng.random() < KEEP_PROBABILITY:
        words.append(colour.strip().lower())
        attrs["colour"] = colour
    words.append(article_type.strip().lower())
    return CatalogQuery(" ".join(words), attrs, kind="attributes")


def title_query(title: str, article_type: str, colour: str, gender: str, rng: np.random.Generator) -> CatalogQuery:
    words = title.split()
    n_drop = int(rng.integers(1, max(1, len(words) // 3) + 1)) if len(words) > MIN_TITLE_WORDS else 0
    keep = np.sort(rng.choice(len(words), size=len(words) - n_drop, replace=False))
    kept = [words[i] for i in keep]
    text = " ".join(kept).lower()
    tokens = set(text.split())
    attrs = {"article_type": article_type}
    if colour.strip() and set(colour.lower().split()) <= tokens:
        attrs["colour"] = colour
    if GENDER_WORDS.get(gender.strip().lower()) in tokens:
        attrs["gender"] = gender
    return CatalogQuery(text, attrs, kind="title")


def generate_queries(
    item_ids: np.ndarray,
    titles: Sequence[str],
    article_types: np.ndarray | Sequence[str],
    colours: np.ndarray | Sequence[str],
    genders: np.ndarray | Sequence[str],
    sources: np.ndarray,
    max_queries: int,
    seed: int = 0,
) -> list[CatalogQuery]:
    """Up to ``max_queries`` distinct queries, half attribute phrases and half titles, from items where
    ``sources`` is True (an item whose article type is unknown is skipped: nothing to label against)."""
    rng = np.random.default_rng(seed)
    eligible = np.flatnonzero(np.asarray(sources, bool) & (np.char.str_len(np.asarray(article_types, str)) > 0))
    out: dict[str, CatalogQuery] = {}
    for n, row in enumerate(rng.permutation(eligible)):
        if len(out) >= max_queries:
            break
        args = (str(article_types[row]), str(colours[row] or ""), str(genders[row] or ""), rng)
        query = attribute_phrase(*args) if n % 2 == 0 else title_query(str(titles[row]), *args)
        if query.text and query.text not in out:  # one list per distinct text: duplicates would leak across folds
            out[query.text] = CatalogQuery(query.text, query.attributes, int(item_ids[row]), query.kind)
    return list(out.values())
