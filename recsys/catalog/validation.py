"""Validation of merchant input: one item's fields, reviews, and limits.

Everything a merchant types passes through ``validate_item``; it either returns a clean ``ItemDraft`` or
raises ``InvalidInput`` listing every problem, so nothing is written on bad input.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

# A tag-like run such as <b>, </script>, <img src=...>: we refuse markup rather than guess how to strip it.
_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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


def clean_text(value: Any, name: str, max_chars: int, problems: list[str], *, required: bool = False) -> str:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()
    if required and not text:
        problems.append(f"{name} is required")
    if len(text) > max_chars:
        problems.append(f"{name} is {len(text)} characters, over the {max_chars} limit")
    if _HTML_TAG.search(text):
        problems.append(f"{name} contains HTML markup; plain text only")
    return text


def parse_price(value: Any, problems: list[str]) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        price = float(str(value).replace(",", "").strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        problems.append(f"price {value!r} is not a number")
        return None
    if math.isnan(price):
        return None
    if math.isinf(price) or price < 0:
        problems.append(f"price {value!r} must be a finite number >= 0")
        return None
    return round(price, 2)


def parse_rating(value: Any, problems: list[str]) -> int | None:
    try:
        rating = float(value)
    except (TypeError, ValueError):
        problems.append(f"rating {value!r} is not a number")
        return None
    if rating != int(rating) or not 1 <= rating <= 5:
        problems.append(f"rating {value!r} must be a whole number from 1 to 5")
        return None
    return int(rating)


def validate_review(raw: dict[str, Any], problems: list[str]) -> ReviewDraft | None:
    before = len(problems)
    rating = parse_rating(raw.get("rating"), problems)
    title = clean_text(raw.get("title"), "review title", 300, problems)
    text = clean_text(raw.get("text"), "review text", 5000, problems)
    if len(problems) > before or rating is None:
        return None
    # The source is never taken from input: only the demo seeder marks reviews as "similar garment".
    return ReviewDraft(rating=rating, title=title, text=text)


def validate_merchant_name(name: str | None, default: str) -> str:
    problems: list[str] = []
    cleaned = clean_text(name, "merchant name", 200, problems)
    if problems:
        raise InvalidInput(problems)
    return cleaned or default


def validate_item(raw: dict[str, Any], *, max_title_chars: int = 300, max_description_chars: int = 10_000) -> ItemDraft:
    problems: list[str] = []
    title = clean_text(raw.get("title"), "title", max_title_chars, problems, required=True)
    external_id = clean_text(raw.get("external_id"), "id", 200, problems)
    description = clean_text(raw.get("description"), "description", max_description_chars, problems)
    brand = clean_text(raw.get("brand"), "brand", 200, problems)
    category = clean_text(raw.get("category"), "category", 500, problems)
    price = parse_price(raw.get("price"), problems)
    currency = clean_text(raw.get("currency") or "USD", "currency", 3, problems).upper()
    attributes = {}
    for key, value in (raw.get("attributes") or {}).items():
        text = clean_text(value, f"attribute {key}", 200, problems)
        if text:
            attributes[str(key)] = text
    reviews = [r for r in (validate_review(r, problems) for r in raw.get("reviews") or []) if r is not None]
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
