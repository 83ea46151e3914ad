"""Column mappings from a merchant's catalog file to TailLift item fields, and named presets."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from .bulk_files import split_list


@dataclass(frozen=True)
class ColumnMapping:
    id: str = "id"
    title: str = "title"
    description: str = "description"
    brand: str = "brand"
    category: tuple[str, ...] = ("category",)  # several columns become a path "A > B > C"
    price: str = "price"
    currency: str = "currency"
    images: str = "images"  # image names inside the zip, ';'- or '|'-separated, or a JSON list
    image_pattern: str = ""  # used when the row names no image, e.g. "{id}.jpg"
    attributes: tuple[str, ...] = ()
    reviews: str = "reviews"  # a list of {rating, title, text} (JSONL) or that list as JSON text (CSV)
    required: tuple[str, ...] = ("id", "title")  # mapping fields whose columns must exist
    join_overflow: bool = False  # CSV rows with extra commas are joined into the last column

    def required_columns(self) -> tuple[str, ...]:
        columns: list[str] = []
        for name in self.required:
            value = getattr(self, name)
            columns.extend(value if isinstance(value, tuple) else [value])
        return tuple(columns)

    def to_raw_item(self, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """(fields for ``validate_item``, image names) from one parsed row."""
        get = lambda column: values.get(column) if column else None  # noqa: E731
        category = " > ".join(str(get(c)).strip() for c in self.category if str(get(c) or "").strip())
        attributes = {c: get(c) for c in self.attributes if get(c) not in (None, "")}
        if isinstance(attributes.get("year"), str) and attributes["year"].endswith(".0"):
            attributes["year"] = attributes["year"][:-2]  # pandas-exported years such as "2011.0"
        images = split_list(get(self.images))
        if not images and self.image_pattern:
            images = [self.image_pattern.format(id=str(get(self.id)).strip())]
        raw = {
            "external_id": get(self.id),
            "title": get(self.title),
            "description": get(self.description),
            "brand": get(self.brand),
            "category": category,
            "price": get(self.price),
            "currency": get(self.currency),
            "attributes": attributes,
            "reviews": _parse_reviews(get(self.reviews)),
        }
        return raw, images

    def with_overrides(self, overrides: dict[str, str]) -> "ColumnMapping":
        """Apply "field=column" overrides; tuple fields take comma-separated columns."""
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in self.__dataclass_fields__ or key in {"required", "join_overflow"}:
                raise ValueError(f"unknown mapping field {key!r}")
            current = getattr(self, key)
            changes[key] = tuple(v.strip() for v in value.split(",") if v.strip()) if isinstance(current, tuple) else value
        return replace(self, **changes)


def _parse_reviews(value: Any) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [{"rating": None, "text": value}]  # surfaces as a clear rating error for the row
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# The Myntra fashion set (../shared/data/fashion): styles.csv + images.zip of <id>.jpg.
FASHION = ColumnMapping(
    id="id",
    title="productDisplayName",
    description="",
    brand="",
    category=("masterCategory", "subCategory", "articleType"),
    price="",
    currency="",
    images="",
    image_pattern="{id}.jpg",
    attributes=("gender", "baseColour", "season", "year", "usage", "articleType"),
    reviews="",
    required=("id", "title", "category", "attributes"),
    join_overflow=True,
)

PRESETS: dict[str, ColumnMapping] = {"default": ColumnMapping(), "fashion": FASHION}


def parse_overrides(lines: str | list[str] | None) -> dict[str, str]:
    """'title=productDisplayName' lines (or a list of them) into a dict."""
    if not lines:
        return {}
    items = lines.splitlines() if isinstance(lines, str) else lines
    out: dict[str, str] = {}
    for line in items:
        line = line.strip()
        if not line:
            continue
        if "=" not in line:
            raise ValueError(f"mapping line {line!r} is not field=column")
        key, value = line.split("=", 1)
        out[key.strip()] = value.strip()
    return out
