"""Tokenisation shared by the text feature families: lower-case alphanumeric runs.

CrowdFlower text is already stemmed and lower-cased with digits replaced by "number"; catalog text is raw.
Both go through the same cheap regex so features mean the same thing on either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+")

# Attribute vocabularies: a query naming one of these expects the item to carry it, and an item carrying a
# different one from the same vocabulary is a likely mismatch ("red dress" vs "blue dress").
COLOURS = frozenset(
    "black white red blue green yellow pink purpl purple orang orange brown grey gray navi navy beig beige gold "
    "silver ivori ivory cream teal maroon khaki tan turquois turquoise charcoal burgundi burgundy olive coral "
    "lavend lavender magenta multicolor".split()
)
SIZES = frozenset(
    "xs s m l xl xxl xxxl small medium larg large mini queen king twin full doubl double petit petite plus "
    "toddler infant youth kid kids men women mens womens".split()
)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall((text or "").lower())


def tokenize_all(texts: Sequence[str]) -> list[list[str]]:
    return [tokenize(t) for t in texts]


def is_number_like(token: str) -> bool:
    """Digits, model codes mixing letters and digits, or CrowdFlower's "number" placeholder."""
    return token == "number" or any(ch.isdigit() for ch in token)


def attribute_tokens(tokens: Sequence[str]) -> set[str]:
    return {t for t in tokens if t in COLOURS or t in SIZES or is_number_like(t)}


def char_trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@dataclass(frozen=True)
class ItemText:
    """Item-side token data of one title or description, computed once per distinct text (``item_text``)."""

    tokens: tuple[str, ...]
    words: frozenset[str]
    joined: str  # " w1 w2 ... " so "phrase occurs" and "term is a word prefix" are substring searches
    bigrams: frozenset[tuple[str, str]]
    trigrams: frozenset[str]  # character trigrams of the space-joined tokens


# Item texts repeat across queries (the same catalog is searched all day), so tokenising each candidate on
# every search is wasted work: this cache is the item-side precomputation, filled the first time a text is
# ranked. 2**16 entries holds titles and descriptions of a 30k-item catalog (a few hundred bytes each).
@lru_cache(maxsize=2**16)
def item_text(text: str) -> ItemText:
    tokens = tuple(tokenize(text))
    joined = " ".join(tokens)
    return ItemText(
        tokens, frozenset(tokens), f" {joined} ", frozenset(zip(tokens, tokens[1:])), frozenset(char_trigrams(joined))
    )
