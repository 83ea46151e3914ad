"""What the Merchant tab's forms share: reading Gradio's values (grid rows, uploaded files) and saying why nothing
was saved. Values go to the service as typed; the service validates them."""

from __future__ import annotations

from typing import Any

from recsys.catalog.validation import InvalidInput
from recsys.ui.render import esc

REVIEW_COLUMNS = ["rating (1-5)", "title", "text"]
BLANK_REVIEWS = [[None, "", ""]] * 3  # the empty grid a new item starts with


def table_rows(table: Any) -> list[list[Any]]:
    if table is None:
        return []
    if hasattr(table, "values"):  # a pandas DataFrame from gr.Dataframe
        return table.values.tolist()
    return [list(r) for r in table]


def cell(value: Any) -> Any:
    """A grid cell as typed: a blank cell (None, "" or pandas' NaN) is None, i.e. not given."""
    return None if value is None or value == "" or (isinstance(value, float) and value != value) else value


def reviews_from_table(table: Any) -> list[dict[str, Any]]:
    """The grid's non-blank rows as {rating, title, text}; the values go to validation as they are."""
    reviews = []
    for row in table_rows(table):
        rating, title, text = [cell(v) for v in (list(row) + [None] * 3)[:3]]
        if rating is None and title is None and text is None:
            continue  # blank line in the grid
        reviews.append({"rating": rating, "title": title, "text": text})
    return reviews


def uploaded_paths(files: Any) -> list[str]:
    """The paths of a gr.File value: one file, a list, or nothing."""
    if not files:
        return []
    files = files if isinstance(files, list) else [files]
    return [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files]


def problems_markdown(exc: Exception) -> str:
    problems = exc.problems if isinstance(exc, InvalidInput) else [str(exc)]
    return "**Nothing was saved:**\n" + "\n".join(f"- {esc(p)}" for p in problems)
