"""The same hostile values through every way data comes in: bulk CSV, bulk JSONL, the merchant form, the
service API (add and update) and review posting. Each must be refused with the same reason (one rule, written
once) and write nothing; values that look odd but are fine must be stored exactly as typed."""

from __future__ import annotations

import html
import json
import math

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.catalog.validation import InvalidInput
from recsys.ui import merchant_tab
from tests.catalog.bad_inputs import write_csv

NAN, INF = math.nan, math.inf
CSV, JSONL, API, FORM, UPDATE, REVIEW = "csv", "jsonl", "api", "form", "update", "review"
TEXT_FIELDS = (CSV, JSONL, API, FORM, UPDATE)
REVIEWS_ANYWHERE = (CSV, JSONL, API, FORM, REVIEW)
REVIEWS_NOT_IN_FORM = (CSV, JSONL, API, REVIEW)  # a blank grid cell is "no rating", not NaN
NUMBER_ONLY = (JSONL, API, UPDATE)  # a CSV cell is always text; a form field has one type

# (field, value, reason, entry points)
REFUSED = [
    ("title", "\u200b\u200b\u200b", "only invisible characters", TEXT_FIELDS),
    ("title", "invoice\u202egpj.exe", "bidirectional control character (U+202E)", TEXT_FIELDS),
    ("title", "<script>alert(1)</script>", "HTML markup", TEXT_FIELDS),
    ("title", "<img src=x onerror=alert(1)>", "HTML markup", TEXT_FIELDS),
    ("title", "x" * 301, "over the 300 limit", TEXT_FIELDS),
    ("title", "Two\nlines", "line break", TEXT_FIELDS),
    ("title", "lone \ud800 surrogate", "invalid character", (JSONL, API, FORM, UPDATE)),
    ("title", ["list", "title"], "title must be text, not a list", NUMBER_ONLY),
    ("title", {"a": 1}, "title must be text, not an object", NUMBER_ONLY),
    ("brand", 12.5, "brand must be text, not a number", NUMBER_ONLY),
    ("external_id", {"a": 1}, "id must be text, not an object", (JSONL, API)),
    ("price", "12,50", "is not a number (write decimals with a dot", (CSV, JSONL, API, UPDATE)),
    ("price", "NaN", "is not a number", (CSV, JSONL, API, UPDATE)),
    ("price", "1e400", "is not a number", (CSV, JSONL, API, UPDATE)),
    ("price", NAN, "must be a finite number >= 0", (JSONL, API, FORM, UPDATE)),
    ("price", INF, "must be a finite number >= 0", (JSONL, API, FORM, UPDATE)),
    ("price", -1.0, "must be a finite number >= 0", (JSONL, API, FORM, UPDATE)),
    ("price", "-3", "must be a finite number >= 0", (CSV, JSONL, API, UPDATE)),
    ("price", 9.999, "more than 2 decimals", (JSONL, API, FORM, UPDATE)),
    ("price", True, "price must be a number, not true", NUMBER_ONLY),
    ("attributes", "red", "attributes must be an object", (API, UPDATE)),
    ("attributes", {"colour": ["red"]}, "attribute colour must be text, not a list", NUMBER_ONLY),
    ("attributes", {"colour": True}, "attribute colour must be text, not true", NUMBER_ONLY),
    ("reviews", [{"rating": NAN, "text": "x"}], "rating nan must be a whole number from 1 to 5", REVIEWS_NOT_IN_FORM),
    ("reviews", [{"rating": INF, "text": "x"}], "rating inf must be a whole number from 1 to 5", REVIEWS_NOT_IN_FORM),
    ("reviews", [{"rating": 10**400, "text": "x"}], "must be a whole number from 1 to 5", REVIEWS_NOT_IN_FORM),
    ("reviews", [{"rating": True, "text": "x"}], "rating true must be a whole number from 1 to 5", REVIEWS_NOT_IN_FORM),
    ("reviews", [{"rating": 4.5, "text": "x"}], "rating 4.5 must be a whole number from 1 to 5", REVIEWS_ANYWHERE),
    ("reviews", [{"rating": 9, "text": "x"}], "rating 9 must be a whole number from 1 to 5", REVIEWS_ANYWHERE),
    ("reviews", [{"rating": 5, "text": "<b>great</b>"}], "review text contains HTML markup", REVIEWS_ANYWHERE),
    ("reviews", [{"rating": 5, "text": "\u202eevil"}], "bidirectional", REVIEWS_ANYWHERE),
    ("reviews", "great", "reviews must be a list", (JSONL, API)),
    ("reviews", ["great"], "a review must be an object", (CSV, JSONL, API)),
]

# (field, value, what is stored) through every entry point that can carry the value
ACCEPTED = [
    ("title", "Kids tee size <M>", "Kids tee size <M>", TEXT_FIELDS),
    ("title", "Cable <USB-C> 2 m", "Cable <USB-C> 2 m", TEXT_FIELDS),
    ("title", "Men's 5 < 6 & co", "Men's 5 < 6 & co", TEXT_FIELDS),
    ("title", "שמלה כחולה", "שמלה כחולה", TEXT_FIELDS),  # right-to-left text itself is fine
    ("price", "1,299.00", 1299.0, (CSV, JSONL, API, UPDATE)),
    ("price", 12.5, 12.5, (JSONL, API, FORM, UPDATE)),
    ("external_id", 123, "123", (JSONL, API)),
]


def _cases(rows):
    for field, value, expected, channels in rows:
        for channel in channels:
            label = f"{field}-{json.dumps(value, default=str)[:24]}-{channel}"
            yield pytest.param(field, value, expected, channel, id=label)


def _bulk(service, tmp_path, channel: str, field: str, value) -> tuple[list[str], object]:
    row = {"id": "h1", "title": "Plain shirt"}
    overrides = ""
    if field == "attributes":  # attributes come from columns the mapping names
        row.update(value)
        overrides = "attributes=" + ",".join(value)
    else:
        row["id" if field == "external_id" else field] = value
    if channel == CSV:
        cells = {k: (json.dumps(v) if k == "reviews" else v) for k, v in row.items()}
        path = write_csv(tmp_path / "hostile.csv", list(cells), [list(cells.values())])
    else:
        path = tmp_path / "hostile.jsonl"
        path.write_text(json.dumps(row), encoding="utf-8")
    report = service.import_bundle(SYSTEM, path, None, mapping_overrides=overrides)
    assert report.ok and report.total_rows == 1, report.summary()
    if report.rejected:
        return [r for e in report.rejected for r in e.reasons], None
    return [], service.get_item(report.added_item_ids[0])


def _form(service, field: str, value) -> tuple[list[str], object]:
    fields = {"title": "Plain shirt", "description": "", "price": None, "category": "", "brand": ""}
    reviews = []
    if field == "reviews":
        reviews = [[r.get("rating"), r.get("title", ""), r.get("text", "")] for r in value]
    else:
        fields[field] = value
    message, item_id = merchant_tab.create_item(
        service,
        SYSTEM,
        fields["title"],
        fields["description"],
        fields["price"],
        fields["category"],
        fields["brand"],
        [],
        reviews,
    )
    if item_id is None:
        return [html.unescape(message)], None
    return [], service.get_item(item_id)


def submit(service, tmp_path, channel: str, field: str, value) -> tuple[list[str], object]:
    """(reasons, stored item or None) for one value sent through one entry point."""
    if channel in (CSV, JSONL):
        return _bulk(service, tmp_path, channel, field, value)
    if channel == FORM:
        return _form(service, field, value)
    try:
        if channel == API:
            return [], service.add_item(SYSTEM, {"title": "Plain shirt", field: value})
        if channel == UPDATE:
            base = service.add_item(SYSTEM, {"title": "Keep me", "price": 5})
            before = service.get_item(base.id)
            try:
                return [], service.update_item(SYSTEM, base.id, {field: value})
            finally:
                after = service.get_item(base.id)
                if after.updated_at == before.updated_at:
                    unchanged = (before.title, before.price, before.attributes)
                    assert (after.title, after.price, after.attributes) == unchanged
        base = service.add_item(SYSTEM, {"title": "Reviewed shirt"})
        review = value[0]
        return [], service.add_review(
            SYSTEM, base.id, review.get("rating"), review.get("title", ""), review.get("text", "")
        )
    except InvalidInput as exc:
        return exc.problems, None


@pytest.mark.parametrize("field, value, reason, channel", list(_cases(REFUSED)))
def test_hostile_value_is_refused_alike_everywhere_and_writes_nothing(service, tmp_path, field, value, reason, channel):
    before = service.stats()
    reasons, item = submit(service, tmp_path, channel, field, value)
    assert item is None, f"{channel} accepted {field}={value!r}"
    assert any(reason in r for r in reasons), reasons
    after = service.stats()
    written = 1 if channel in (UPDATE, REVIEW) else 0  # the base item those entry points need
    assert (after["items"], after["reviews"]) == (before["items"] + written, before["reviews"])


@pytest.mark.parametrize("field, value, stored, channel", list(_cases(ACCEPTED)))
def test_odd_but_valid_value_is_stored_exactly(service, tmp_path, field, value, stored, channel):
    reasons, item = submit(service, tmp_path, channel, field, value)
    assert reasons == [] and item is not None
    assert getattr(item, field) == stored
