"""Catalog attributes as contrastive groups (issue 19): an item's article type, colour and gender, and the short
phrases ("a photo of Sweaters", "Blue", "for Women") that the multi-positive term pulls toward every item of
that group, so a rare type's name lands near all of its few photos, not only near the titles that contain it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from recsys.encoders.category_prompts import TEMPLATES

FIELDS = ("type", "colour", "gender")
# the type phrasings are the query-time prompt ensemble's, so training and query time speak alike
PHRASES: dict[str, tuple[str, ...]] = {
    "type": TEMPLATES,
    "colour": ("{}", "a {} item", "{} colour"),
    "gender": ("{}", "for {}", "{} fashion"),
}
COLOUR_KEYS = ("baseColour", "colour", "color")
GENDER_KEYS = ("gender",)

Attributes = tuple[tuple[str, str], ...]  # (field, value) pairs, hashable so a frozen TrainingPair can hold them


def item_type(category: str | None, attributes: Mapping[str, Any] | None) -> str:
    """The item's article type (fashion), else the leaf of its category path."""
    article = (attributes or {}).get("articleType")
    if article:
        return str(article).strip()
    return (category or "").split(">")[-1].strip()


def _first(attributes: Mapping[str, Any], keys: Sequence[str]) -> str:
    return next((str(attributes[k]).strip() for k in keys if str(attributes.get(k) or "").strip()), "")


def item_attributes(category: str | None, attributes: Mapping[str, Any] | None) -> Attributes:
    """(field, value) of each of ``FIELDS`` the item has (empty values left out)."""
    attributes = attributes or {}
    values = {
        "type": item_type(category, attributes),
        "colour": _first(attributes, COLOUR_KEYS),
        "gender": _first(attributes, GENDER_KEYS),
    }
    return tuple((f, v) for f, v in values.items() if v)


def check_fields(fields: Sequence[str]) -> list[str]:
    """Problems with a choice of attribute fields (empty list: fine)."""
    bad = [f for f in fields if f not in FIELDS]
    return [f"attribute fields must be among {', '.join(FIELDS)} (got {', '.join(bad)})"] if bad else []


def phrases(field: str, value: str) -> list[str]:
    """Every phrasing of one attribute value."""
    return [template.format(value) for template in PHRASES[field]]
