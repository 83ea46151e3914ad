"""Column mappings from a merchant's catalog file to TailLift item fields, and named presets.

A mapping only picks values out of a row; it converts nothing but the row's text encodings (a CSV ``reviews``
cell holds JSON text). Every value goes to ``validation`` with the type it had in the file, so a JSONL list
title is refused there instead of being turned into "['a', 'b']" here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from recsys.catalog.bulk_files import image_names


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
    image_pattern: str = ""  # used when the row names no image, e.g. "{id}.jpg" ({id} is the only field)
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

    def to_raw_item(self, values: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
        """(fields for ``validate_item``, image names, problems) from one parsed row; never raises."""
        get = lambda column: values.get(column) if column else None  # noqa: E731
        problems: list[str] = []
        category = get(self.category[0]) if len(self.category) == 1 else tuple(get(c) for c in self.category)
        attributes = {c: get(c) for c in self.attributes if get(c) not in (None, "")}
        year = attributes.get("year")
        if isinstance(year, str) and year.endswith(".0"):
            attributes["year"] = year[:-2]  # pandas-exported years such as "2011.0"
        images = image_names(get(self.images), problems)
        external_id = get(self.id)
        if not images and self.image_pattern and isinstance(external_id, (str, int)) and str(external_id).strip():
            images = [self.image_pattern.replace("{id}", str(external_id).strip())]
        raw = {
            "external_id": external_id,
            "title": get(self.title),
            "description": get(self.description),
            "brand": get(self.brand),
            "category": category,
            "price": get(self.price),
            "currency": get(self.currency),
            "attributes": attributes,
            "reviews": _parse_reviews(get(self.reviews), problems),
        }
        return raw, images, problems

    def with_overrides(self, overrides: dict[str, str]) -> ColumnMapping:
        """Apply "field=column" overrides; tuple fields take comma-separated columns."""
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if not isinstance(key, str) or key not in self.__dataclass_fields__ or key in {"required", "join_overflow"}:
                raise ValueError(f"unknown mapping field {key!r}")
            if not isinstance(value, str):
                raise ValueError(f"mapping field {key} must name a column (text), not {value!r}")
            current = getattr(self, key)
            columns = tuple(v.strip() for v in value.split(",") if v.strip())
            changes[key] = columns if isinstance(current, tuple) else value
        return replace(self, **changes)


def _parse_reviews(value: Any, problems: list[str]) -> Any:
    """A CSV cell's JSON text decoded; JSONL values as they are. Their shape is checked by ``validation``."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "too long or nested too deeply"
            problems.append(
                f"reviews must be a list of {{rating, title, text}} objects, as JSON text in a CSV cell; "
                f"this is not valid JSON ({reason})"
            )
            return None
    return value


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
    if not isinstance(lines, (str, list, tuple)):
        raise ValueError(f"mapping overrides must be text or a list of lines, not {type(lines).__name__}")
    items = lines.splitlines() if isinstance(lines, str) else lines
    out: dict[str, str] = {}
    for line in items:
        if not isinstance(line, str):
            raise ValueError(f"mapping line {line!r} is not field=column text")
        line = line.strip()
        if not line:
            continue
        if "=" not in line:
            raise ValueError(f"mapping line {line!r} is not field=column")
        key, value = line.split("=", 1)
        out[key.strip()] = value.strip()
    return out
