"""Validation of merchant input: one item's fields, reviews, and limits.

Every way data comes in (bulk CSV/JSONL rows, the merchant form, the service API, review posting, the demo
seeder) passes through ``validate_item`` / ``validate_review``; they either return a clean draft or raise
``InvalidInput`` listing every problem, so nothing is written on bad input. They are total: any value of any
type is either accepted or refused with a reason, never passed on half-checked and never raised past them as
another exception. Text rules live in ``plain_text``.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from recsys.catalog.plain_text import as_text, clean_text, kind_of, shown

ITEM_FIELDS = ("external_id", "title", "description", "brand", "category", "attributes", "price", "currency", "reviews")
REVIEW_FIELDS = ("rating", "title", "text")
MAX_PRICE = 1_000_000_000
MAX_ATTRIBUTES = 50
MAX_REVIEWS_PER_ITEM = 1000
# Digits with an optional dot and decimals; thousands commas only in the unambiguous "1,299.00" form, because
# "12,50" (a decimal comma) and "1,250" (a thousands comma) cannot be told apart.
_PRICE = re.compile(r"-?(\d+|\d{1,3}(?:,\d{3})+(?=\.))(?:\.(\d+))?")
_RATING = re.compile(r"([1-5])(?:\.0+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")


class InvalidInput(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ReviewDraft:
    rating: int
    title: str = ""
    text: str = ""
    source: str = "merchant"


@dataclass
class ItemDraft:
    external_id: str
    title: str
    description: str = ""
    brand: str = ""
    category: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    price: float | None = None
    currency: str = "USD"
    reviews: list[ReviewDraft] = field(default_factory=list)


def _number(value: Any) -> float | None:
    """A real number as a float, or None for anything else (bools, text, containers, values too big)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (OverflowError, ValueError, TypeError):  # an int of 400 digits, an exotic Real
        return math.inf


def parse_price(value: Any, problems: list[str]) -> float | None:
    """None when not given; a finite number >= 0 with at most 2 decimals, below ``MAX_PRICE``; else a reason."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        match = _PRICE.fullmatch(value.strip())
        if match is None:
            hint = " (write decimals with a dot, e.g. 12.50)" if "," in value else ""
            problems.append(f"price {shown(value)} is not a number{hint}")
            return None
        if match.group(2) and len(match.group(2).rstrip("0")) > 2:
            problems.append(f"price {shown(value)} has more than 2 decimals")
            return None
        price = float(match.group(0).replace(",", ""))
    else:
        number = _number(value)
        if number is None:
            problems.append(f"price must be a number, not {kind_of(value)}")
            return None
        price = number
    if not math.isfinite(price) or price < 0:
        problems.append(f"price {shown(value)} must be a finite number >= 0")
        return None
    if price > MAX_PRICE:
        problems.append(f"price {shown(value)} is over the {MAX_PRICE:,} limit")
        return None
    if abs(price - round(price, 2)) > 1e-9 * max(1.0, price):
        problems.append(f"price {shown(value)} has more than 2 decimals")
        return None
    return round(price, 2)


def parse_rating(value: Any, problems: list[str], label: str = "rating") -> int | None:
    """A whole number of stars from 1 to 5 (5, 5.0 or "5"); anything else, NaN and true included, is refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(f"{label} is required (a whole number from 1 to 5)")
        return None
    if isinstance(value, str):
        match = _RATING.fullmatch(value.strip())
        if match:
            return int(match.group(1))
    else:
        number = _number(value)
        if number is not None and math.isfinite(number) and number.is_integer() and 1 <= number <= 5:
            return int(number)
    problems.append(f"{label} {shown(value)} must be a whole number from 1 to 5")
    return None


def _unknown_fields(raw: Mapping, known: tuple[str, ...], what: str, problems: list[str]) -> None:
    unknown = [shown(k) for k in raw if k not in known]
    if unknown:
        problems.append(f"{what} has unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}")


def validate_review(raw: Any, problems: list[str], label: str = "") -> ReviewDraft | None:
    """A review as ``{rating, title, text}``; appends reasons (prefixed with ``label``) and returns None if bad."""
    prefix = f"{label}: " if label else ""
    if not isinstance(raw, Mapping):
        problems.append(f"{prefix}a review must be an object with rating, title and text, not {kind_of(raw)}")
        return None
    own: list[str] = []
    _unknown_fields(raw, REVIEW_FIELDS, "the review", own)
    rating = parse_rating(raw.get("rating"), own)
    title = clean_text(raw.get("title"), "review title", 300, own)
    text = clean_text(raw.get("text"), "review text", 5000, own, multiline=True)
    problems.extend(prefix + p for p in own)
    if own or rating is None:
        return None
    # The source is never taken from input: only the demo seeder marks reviews as "similar garment".
    return ReviewDraft(rating=rating, title=title, text=text)


def validate_reviews(value: Any, problems: list[str]) -> list[ReviewDraft]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        problems.append(f"reviews must be a list of {{rating, title, text}} objects, not {kind_of(value)}")
        return []
    if len(value) > MAX_REVIEWS_PER_ITEM:
        problems.append(f"{len(value)} reviews, over the limit of {MAX_REVIEWS_PER_ITEM}")
        return []
    drafts = [validate_review(r, problems, f"review {n}") for n, r in enumerate(value, start=1)]
    return [d for d in drafts if d is not None]


def validate_attributes(value: Any, problems: list[str]) -> dict[str, str]:
    """``{name: value}`` with text or number values; empty values are dropped, other types refused."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"attributes must be an object of name: value pairs, not {kind_of(value)}")
        return {}
    if len(value) > MAX_ATTRIBUTES:
        problems.append(f"{len(value)} attributes, over the limit of {MAX_ATTRIBUTES}")
        return {}
    attributes: dict[str, str] = {}
    for key, item in value.items():
        name = clean_text(key, "attribute name", 100, problems, required=True, allow_numbers=True)
        if item is None or item == "":
            continue
        number = _number(item)
        if number is not None:
            if not math.isfinite(number):
                problems.append(f"attribute {name} {shown(item)} must be a finite number or text")
                continue
            text = str(int(item)) if isinstance(item, numbers.Integral) else repr(number)
        else:
            text = clean_text(item, f"attribute {name}", 200, problems)
        if name and text:
            attributes[name] = text
    return attributes


def validate_category(value: Any, problems: list[str]) -> str:
    """A path "A > B > C", given as one text or (JSONL, several columns) as a list of levels."""
    levels = list(value) if isinstance(value, (list, tuple)) else [value]
    cleaned = [clean_text(level, "category", 500, problems, allow_numbers=True) for level in levels]
    path = " > ".join(level for level in cleaned if level)
    if len(path) > 500:
        problems.append(f"category is {len(path)} characters, over the 500 limit")
    return path


def validate_currency(value: Any, problems: list[str]) -> str:
    text = clean_text(value, "currency", 10, problems).upper()
    if not text:
        return "USD"
    if not _CURRENCY.fullmatch(text):
        problems.append(f"currency {shown(text)} must be a three-letter code such as USD")
    return text


def validate_merchant_name(name: Any, default: str) -> str:
    problems: list[str] = []
    cleaned = clean_text(name, "merchant name", 200, problems)
    if problems:
        raise InvalidInput(problems)
    return cleaned or default


def whole_number(value: Any) -> int | None:
    """An id as callers pass it: an int, or its digits as text; None for anything else (bools included)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return None


def parse_image_ids(values: Any) -> set[int]:
    """Image ids to remove from an item; raises ``InvalidInput`` for anything but a list of whole numbers."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInput([f"images to remove must be a list of image ids, not {kind_of(values)}"])
    ids = set()
    for value in values:
        number = whole_number(value)
        if number is None:
            raise InvalidInput([f"image id {shown(value)} to remove is not a whole number"])
        ids.add(number)
    return ids


def check_image_count(count: int, limit: int, problems: list[str]) -> None:
    if count > limit:
        problems.append(f"{count} images, over the limit of {limit}")


def validate_item(
    raw: Any, *, max_title_chars: int = 300, max_description_chars: int = 10_000, require_id: bool = False
) -> ItemDraft:
    """The one gate for an item's fields (``ITEM_FIELDS``); ``require_id`` for bulk rows, where the id is the key."""
    if not isinstance(raw, Mapping):
        raise InvalidInput([f"an item must be an object of fields, not {kind_of(raw)}"])
    problems: list[str] = []
    _unknown_fields(raw, ITEM_FIELDS, "the item", problems)
    external_id = clean_text(raw.get("external_id"), "id", 200, problems, allow_numbers=True)
    if require_id and not external_id and as_text(raw.get("external_id"), "id", []) is not None:
        problems.append("id is empty")
    title = clean_text(raw.get("title"), "title", max_title_chars, problems, required=True)
    description = clean_text(raw.get("description"), "description", max_description_chars, problems, multiline=True)
    brand = clean_text(raw.get("brand"), "brand", 200, problems)
    category = validate_category(raw.get("category"), problems)
    price = parse_price(raw.get("price"), problems)
    currency = validate_currency(raw.get("currency"), problems)
    attributes = validate_attributes(raw.get("attributes"), problems)
    reviews = validate_reviews(raw.get("reviews"), problems)
    if problems:
        raise InvalidInput(problems)
    return ItemDraft(
        external_id=external_id,
        title=title,
        description=description,
        brand=brand,
        category=category,
        attributes=attributes,
        price=price,
        currency=currency,
        reviews=reviews,
    )
