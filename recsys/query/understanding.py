"""What a query asks for, in English or Chinese: colour, gender/age group, article type and a price range.

Read from two sources of words:

* the live catalog's own facet values (``CatalogVocabulary``: the colours, genders and article types its items
  carry), matched by stemmed words, longest phrase first ("navy blue casual shirt" -> colour Navy Blue, type
  Shirts); a single head word may name several types ("shoes" -> Casual Shoes, Sports Shoes, ...);
* a small bilingual lexicon kept as data (``lexicon/zh_en.json``): Chinese phrases -> English words, and English
  synonyms and spellings ("tee", "ladies", "gray") -> the words catalogs use. A Chinese phrase's English words are
  resolved against the catalog like an English query's, so "连衣裙" -> "dresses" -> the catalog's Dresses.

Price phrases ("under 500", "below $50", "between 20 and 40", "500元以下", "500以内", "100到300元") give a range.

Nothing here filters: the search pipeline uses the result as soft boosts (``query_understanding_boost``), the
lexical route gets the English words of Chinese phrases (so English-titled items match), and the shopper sees each
understood part as a removable chip (``ignored`` keys leave it out).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from recsys.query.script import CJK, stemmer_available

LEXICON_PATH = Path(__file__).with_name("lexicon") / "zh_en.json"
KINDS = ("colour", "gender", "type")
PRICE = "price"
MAX_WORDS = 4  # longest English phrase tried ("perfume and body mist")

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = r"(\d+(?:[.,]\d+)?)\s*(k)?"
_CURRENCY = r"(?:rs\.?|inr|₹|\$|usd|us\$|eur|€|£|¥|rmb|cny)"
_UNIT = r"(?:rs\.?|rupees?|inr|dollars?|usd|bucks|euros?|eur|yuan|rmb|元|块钱|块|美元|欧元|卢比)"
_EN_AMOUNT = rf"{_CURRENCY}?\s*{_NUMBER}\s*{_UNIT}?"
PRICE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), bound)
    for pattern, bound in (
        (rf"\bbetween\s+{_EN_AMOUNT}\s*(?:and|to|-)\s*{_EN_AMOUNT}", "range"),
        (rf"{_CURRENCY}\s*{_NUMBER}\s*(?:-|to)\s*{_EN_AMOUNT}", "range"),
        (rf"\b(?:under|below|less\s+than|cheaper\s+than|up\s*to|within|max(?:imum)?|at\s+most)\s+{_EN_AMOUNT}", "max"),
        (rf"<=?\s*{_EN_AMOUNT}", "max"),
        (rf"\b(?:over|above|more\s+than|at\s+least|min(?:imum)?|starting\s+at)\s+{_EN_AMOUNT}", "min"),
        (rf">=?\s*{_EN_AMOUNT}", "min"),
        (rf"{_NUMBER}\s*{_UNIT}?\s*(?:到|至|-|~|～|—)\s*{_NUMBER}\s*{_UNIT}", "range"),
        (rf"{_NUMBER}\s*{_UNIT}?\s*(?:以下|以内|之内|之下|内)", "max"),
        (rf"(?:低于|少于|不超过|不到|小于|不高于|最多)\s*{_NUMBER}\s*{_UNIT}?", "max"),
        (rf"{_NUMBER}\s*{_UNIT}?\s*(?:以上|之上|起)", "min"),
        (rf"(?:高于|超过|多于|大于|不低于|至少)\s*{_NUMBER}\s*{_UNIT}?", "min"),
    )
)


@dataclass(frozen=True)
class Understood:
    """One understood part of a query."""

    kind: str  # "colour", "gender", "type" or "price"
    value: str  # what was understood, in English: "navy blue", "dresses", "under 500"
    phrase: str  # the words of the query it was read from, as typed ("藏青色", "Navy Blue", "500元以下")
    catalog_values: tuple[str, ...] = ()  # the catalog facet values it names ("Navy Blue"); empty: none here
    terms: tuple[str, ...] = ()  # English words the lexical route adds (a Chinese phrase's translation)
    low: float | None = None  # price bounds (kind "price" only)
    high: float | None = None

    @property
    def key(self) -> str:
        """Stable id of this understanding, e.g. ``colour:navy blue``: what a removed chip sends back."""
        return f"{self.kind}:{self.value}"

    @property
    def label(self) -> str:
        shown = ", ".join(self.catalog_values) if self.catalog_values else self.value
        return f"{self.kind}: {shown}" + ("" if self.phrase.lower() == shown.lower() else f" ({self.phrase})")


@dataclass(frozen=True)
class Understanding:
    items: tuple[Understood, ...] = ()
    ignored: tuple[str, ...] = ()  # keys the shopper removed (chips): read, but not used

    def __bool__(self) -> bool:
        return bool(self.items)

    def of(self, kind: str) -> list[Understood]:
        return [u for u in self.items if u.kind == kind]

    @property
    def expansion(self) -> list[str]:
        """English words to add to the lexical query, in order, without repeats."""
        return list(dict.fromkeys(t for u in self.items for t in u.terms))

    @property
    def price_range(self) -> tuple[float | None, float | None]:
        prices = self.of(PRICE)
        lows = [u.low for u in prices if u.low is not None]
        highs = [u.high for u in prices if u.high is not None]
        return (max(lows) if lows else None, min(highs) if highs else None)


@dataclass(frozen=True)
class Lexicon:
    zh: dict[str, tuple[str, str]]  # Chinese phrase (lowercase) -> (kind, English words)
    en: dict[str, dict[str, str]]  # kind -> English synonym (lowercase) -> the word catalogs use ("" = ignore)

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> Lexicon:
        data = json.loads(path.read_text(encoding="utf-8"))
        zh = {phrase.lower(): (kind, english) for kind in KINDS for phrase, english in data.get(kind, {}).items()}
        return cls(zh, {kind: dict(data.get("en", {}).get(kind, {})) for kind in KINDS})

    @property
    def longest_zh(self) -> int:
        return max((len(p) for p in self.zh), default=0)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon.load()


def _stem_words(words: Iterable[str]) -> tuple[str, ...]:
    words = [w for w in words if w]
    if not stemmer_available():  # PyStemmer is optional (as for BM25): plurals then need the exact spelling
        return tuple(words)
    return tuple(_stemmer().stemWords(words))


_local = threading.local()


def _stemmer() -> Any:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def stems(text: str) -> tuple[str, ...]:
    return _stem_words(_WORD.findall(text.lower()))


@dataclass(frozen=True)
class CatalogVocabulary:
    """The facet values of one catalog, keyed by their stemmed words, per kind."""

    exact: dict[str, dict[tuple[str, ...], str]] = field(default_factory=dict)  # kind -> stems -> value
    by_head: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # kind -> last stem -> values

    @classmethod
    def from_values(cls, values: Mapping[str, Iterable[str]]) -> CatalogVocabulary:
        exact: dict[str, dict[tuple[str, ...], str]] = {}
        heads: dict[str, dict[str, list[str]]] = {}
        for kind, names in values.items():
            for name in sorted({str(n) for n in names if n}):
                key = stems(name)
                if key:
                    exact.setdefault(kind, {})[key] = name
                    heads.setdefault(kind, {}).setdefault(key[-1], []).append(name)
        return cls(exact, {k: {h: tuple(v) for h, v in d.items()} for k, d in heads.items()})

    def resolve(self, kind: str, english: str, allow_head: bool = True) -> tuple[str, ...]:
        """The catalog values an English phrase names: the exact value, else (one word) those it is the head of."""
        key = stems(english)
        if not key:
            return ()
        found = self.exact.get(kind, {}).get(key)
        if found is not None:
            return (found,)
        if allow_head and len(key) == 1:
            return self.by_head.get(kind, {}).get(key[0], ())
        return ()


_NO_VOCABULARY = CatalogVocabulary()


def _amount(number: str, thousands: str | None) -> float:
    return float(number.replace(",", "")) * (1000 if thousands else 1)


def _prices(text: str) -> tuple[list[Understood], str]:
    """Price phrases found, and the text with them blanked out (so their numbers are not read again)."""
    found: list[Understood] = []
    for pattern, bound in PRICE_PATTERNS:
        for match in pattern.finditer(text):
            groups = [g for g in match.groups()]
            amounts = [_amount(groups[i], groups[i + 1]) for i in range(0, len(groups), 2) if groups[i]]
            low, high = (min(amounts), max(amounts)) if bound == "range" else (None, None)
            if bound == "max":
                high = amounts[0]
            elif bound == "min":
                low = amounts[0]
            value = (
                f"{low:g}-{high:g}" if bound == "range" else f"under {high:g}" if bound == "max" else f"over {low:g}"
            )
            found.append(Understood(PRICE, value, match.group(0).strip(), low=low, high=high))
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return found, text


def _chinese(text: str, lexicon: Lexicon, vocabulary: CatalogVocabulary) -> tuple[list[Understood], str]:
    """Lexicon phrases in the text, longest first at each position; the text with them blanked out."""
    lowered, found, chars = text.lower(), [], list(text)
    longest, i = lexicon.longest_zh, 0
    while i < len(lowered):
        for size in range(min(longest, len(lowered) - i), 0, -1):
            hit = lexicon.zh.get(lowered[i : i + size])
            if hit is not None and CJK.search(lowered[i : i + size]):
                kind, english = hit
                values = vocabulary.resolve(kind, english)
                found.append(Understood(kind, english, text[i : i + size], values, tuple(english.split())))
                chars[i : i + size] = " " * size
                i += size
                break
        else:
            i += 1
    return found, "".join(chars)


def english_words(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """The English words of the lexicon phrases in a (Chinese) text, in order: "红色连衣裙" -> red, dresses. The
    lexical index adds them to the tokens of Chinese titles and queries, so either language matches the other."""
    if not CJK.search(text):
        return []
    found, _ = _chinese(text, lexicon or default_lexicon(), _NO_VOCABULARY)
    return [word for u in found for word in u.terms]


def _english(text: str, lexicon: Lexicon, vocabulary: CatalogVocabulary) -> list[Understood]:
    """Catalog facet values (and lexicon synonyms of them) named by runs of up to MAX_WORDS words."""
    words = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text) if not CJK.search(m.group(0))]
    found: list[Understood] = []
    i = 0
    while i < len(words):
        for size in range(min(MAX_WORDS, len(words) - i), 0, -1):
            phrase = text[words[i][1] : words[i + size - 1][2]]
            hit = _english_phrase(phrase, size, lexicon, vocabulary)
            if hit is not None:
                found.append(hit)
                i += size
                break
        else:
            i += 1
    return found


def _english_phrase(phrase: str, size: int, lexicon: Lexicon, vocabulary: CatalogVocabulary) -> Understood | None:
    spaced = " ".join(_WORD.findall(phrase.lower()))
    for kind in KINDS:
        synonym = lexicon.en[kind].get(spaced)
        if synonym == "":  # a word the lexicon says to skip ("colour")
            return None
        english = synonym if synonym is not None else spaced
        # A head word alone stands for its types ("shoes"), but only as a whole phrase of one word.
        values = vocabulary.resolve(kind, english, allow_head=size == 1)
        if values:
            value = values[0].lower() if len(values) == 1 else english
            return Understood(kind, value, phrase, values)
    return None


def understand(
    text: str,
    vocabulary: CatalogVocabulary,
    lexicon: Lexicon | None = None,
    ignored: Iterable[str] = (),
) -> Understanding:
    """Read ``text``; parts whose ``key`` is in ``ignored`` are left out (the shopper removed their chip)."""
    lexicon = lexicon or default_lexicon()
    prices, rest = _prices(text or "")
    chinese, rest = _chinese(rest, lexicon, vocabulary)
    english = _english(rest, lexicon, vocabulary)
    # Query order, one per key (a phrase said twice, or in both languages, is one understanding).
    everything = sorted(prices + chinese + english, key=lambda u: (text or "").find(u.phrase))
    skip = set(ignored)
    unique = {u.key: u for u in reversed(everything)}
    kept = tuple(u for u in everything if unique.get(u.key) is u and u.key not in skip)
    return Understanding(kept, tuple(k for k in dict.fromkeys(skip)))
