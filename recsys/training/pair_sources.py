"""Where (text, image) training pairs come from: the catalog itself, logged query clicks, graded judgments.

Every source gives ``TrainingPair``s whose image is the item's first image. The catalog gives one pair per item
and text view (``CATALOG_VIEWS``: its clip text and its bare title); clicks give one pair per logged (query,
clicked item); judgments give one pair per (query, item) graded at least ``min_relevance``.
Held-out items are dropped later, by ``train_heads``, whatever the source.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from recsys.catalog import reads
from recsys.catalog.store import CatalogStore
from recsys.encoders.content import clip_text
from recsys.training.attributes import item_attributes
from recsys.training.pairs import TrainingPair

SOURCES = ("catalog", "clicks", "judgments")
# Texts of a catalog item: "item" = its clip text (title, leaf type, colour, gender: what its vector is made of),
# "title" = the bare title, the shape of a shopper's query. Both lifted title->image R@10 0.770 -> 0.817 on the
# validation split, 3 seeds (docs/training.md, issue 19).
CATALOG_VIEWS = ("item", "title")
JUDGMENT_COLUMNS = ("query", "item_id", "relevance")


@dataclass
class SourceReport:
    pairs: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def check_views(views: Sequence[str]) -> list[str]:
    """Problems with a choice of catalog views (empty: fine)."""
    unknown = [v for v in views if v not in CATALOG_VIEWS]
    if unknown:
        return [f"catalog views must be among {', '.join(CATALOG_VIEWS)} (got {', '.join(map(repr, unknown))})"]
    return [] if views else ["choose at least one catalog view"]


def view_texts(title: str, item_text: str, views: Sequence[str] = CATALOG_VIEWS) -> list[str]:
    """One item's training texts, one per view in ``views`` order; a view equal to an earlier one is dropped
    (an item without type or attributes has clip text = title)."""
    if problems := check_views(views):
        raise ValueError("; ".join(problems))
    by_view = {"item": item_text.strip(), "title": title.strip()}
    texts: list[str] = []
    for view in views:
        if by_view[view] and by_view[view] not in texts:
            texts.append(by_view[view])
    return texts


def catalog_pairs(catalog: CatalogStore, views: Sequence[str] = CATALOG_VIEWS) -> list[TrainingPair]:
    """(text, first image) pairs of every item with an image, one per view (item's first), with its
    type/colour/gender groups."""
    with catalog.sessions() as session:
        rows = reads.items_with_first_image(session)
    return [
        TrainingPair(
            external_id=ext,
            text=text,
            image=catalog.images.path(path),
            attributes=item_attributes(category, attributes),
        )
        for ext, title, category, attributes, path in rows
        for text in view_texts(title, clip_text(title, category, {k: str(v) for k, v in attributes.items()}), views)
    ]


def click_pairs(catalog: CatalogStore, report: SourceReport | None = None) -> list[TrainingPair]:
    """(query, clicked item's first image) for every logged click, cart or purchase that came from a text query."""
    report = report if report is not None else SourceReport()
    with catalog.sessions() as session:
        rows = reads.choices_with_first_image(session)
    pairs = []
    for external_id, query, path in rows:
        if not (query or "").strip():
            report.skip("no query (browse or 'more like this')")
        elif path is None:
            report.skip("item has no image")
        else:
            pairs.append(TrainingPair(external_id, query.strip(), catalog.images.path(path)))
    report.pairs = len(pairs)
    return pairs


def read_judgments(data: bytes, max_bytes: int) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV with columns query, item_id, relevance; ValueError with a clear message otherwise."""
    if len(data) > max_bytes:
        raise ValueError(f"judgments file is {len(data):,} bytes; the limit is {max_bytes:,}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"judgments file is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in JUDGMENT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"judgments file lacks column(s) {', '.join(missing)}; expected {', '.join(JUDGMENT_COLUMNS)}")
    return list(reader)


def judgment_pairs(
    catalog: CatalogStore, path: Path | str, min_relevance: float = 3.0, report: SourceReport | None = None
) -> list[TrainingPair]:
    """(query, item image) for every judgment with relevance >= ``min_relevance`` of an item in the catalog."""
    report = report if report is not None else SourceReport()
    rows = read_judgments(Path(path).read_bytes(), catalog.settings.max_catalog_bytes)
    with catalog.sessions() as session:
        images = reads.first_images(session)
    pairs = []
    for row in rows:
        query, item_id = (row.get("query") or "").strip(), (row.get("item_id") or "").strip()
        try:
            relevance = float(row.get("relevance") or "")
        except ValueError:
            report.skip("relevance is not a number")
            continue
        if not query:
            report.skip("empty query")
        elif item_id not in images:
            report.skip("item not in the catalog (or without an image)")
        elif relevance < min_relevance:
            report.skip(f"relevance below {min_relevance:g}")
        else:
            pairs.append(TrainingPair(item_id, query, catalog.images.path(images[item_id][1])))
    report.pairs = len(pairs)
    return pairs
