"""Bulk import: catalog file + images zip -> validated items, committed atomically per batch.

Every row is validated (fields, then each image) before its batch touches the database; a row with any
problem is rejected with its reasons and nothing of it is written. Checking a row never raises: a value the
rules do not foresee, or a bug, rejects that one row, and the rows after it are still imported. Rows whose id
already exists are compared and updated or left alone, so re-running an import adds nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from recsys.catalog import repository as repo
from recsys.catalog.bulk_files import ImageArchive, ImportRefused, RawRow, iter_batches, read_catalog_rows
from recsys.catalog.images import CheckedImage, ImageRejected, ImageStore, check_image
from recsys.catalog.mapping import ColumnMapping
from recsys.catalog.plain_text import shown
from recsys.catalog.validation import InvalidInput, ItemDraft, check_image_count, validate_item, whole_number
from recsys.config import Settings

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
MAX_NAMED_IMAGES = 200  # a report names this many unreferenced zip images; a demo seed of 5,000 rows leaves 35,000


@dataclass
class RowError:
    row: int
    id: str
    reasons: list[str]


@dataclass
class ImportReport:
    total_rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)  # zip entries that are not images
    # Zip images no row named: the first MAX_NAMED_IMAGES of them, and how many in all.
    unreferenced_images: list[str] = field(default_factory=list)
    unreferenced_image_count: int = 0
    refused: str = ""  # whole-upload refusal: nothing was written
    seconds: float = 0.0
    added_item_ids: list[int] = field(default_factory=list)
    updated_item_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("added_item_ids")
        out.pop("updated_item_ids")
        return out

    def summary(self) -> str:
        if self.refused:
            return f"Refused, nothing imported: {self.refused}"
        return (
            f"{self.total_rows} rows: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.rejected)} rejected ({self.seconds:.1f} s)"
        )


@dataclass
class _ValidRow:
    number: int
    draft: ItemDraft
    images: list[CheckedImage]


def import_catalog(
    catalog_path: Path,
    images_zip: Path | None,
    mapping: ColumnMapping,
    *,
    sessions: sessionmaker[Session],
    store: ImageStore,
    settings: Settings,
    merchant_name: str = repo.DEFAULT_MERCHANT,
    limit: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    started = time.perf_counter()
    report = ImportReport()
    archive: ImageArchive | None = None
    try:
        _, rows = read_catalog_rows(
            catalog_path,
            required_columns=mapping.required_columns(),
            join_overflow=mapping.join_overflow,
            max_bytes=settings.max_catalog_bytes,
        )
        if images_zip is not None:
            archive = ImageArchive.open(
                images_zip, max_zip_bytes=settings.max_zip_bytes, max_entries=settings.max_zip_entries
            )
            report.ignored_files = archive.ignored
    except ImportRefused as exc:
        report.refused = str(exc)
        report.seconds = time.perf_counter() - started
        return report
    if limit is not None:
        rows = rows[:limit]
    report.total_rows = len(rows)
    seen_ids: set[str] = set()
    checked_names: dict[str, CheckedImage | str] = {}  # zip member -> checked image or rejection reason
    done = 0
    try:
        for batch in iter_batches(rows, settings.import_batch_size):
            valid = [
                v
                for v in (
                    _validate_row(r, mapping, archive, settings, seen_ids, report, store, checked_names) for r in batch
                )
                if v
            ]
            _commit_batch(valid, sessions, store, merchant_name, report)
            done += len(batch)
            if progress:
                progress(done, len(rows), report.summary())
    finally:
        if archive is not None:
            unreferenced = archive.unreferenced()
            report.unreferenced_images = unreferenced[:MAX_NAMED_IMAGES]
            report.unreferenced_image_count = len(unreferenced)
            archive.close()
    report.rejected.sort(key=lambda error: error.row)  # a rolled-back batch reports after later rejections
    report.seconds = time.perf_counter() - started
    return report


def _validate_row(
    row: RawRow,
    mapping: ColumnMapping,
    archive: ImageArchive | None,
    settings: Settings,
    seen_ids: set[str],
    report: ImportReport,
    store: ImageStore,
    checked_names: dict[str, CheckedImage | str],
) -> _ValidRow | None:
    """The row's draft and images, or None with the row in ``report.rejected``; never raises."""
    if row.problem:
        report.rejected.append(RowError(row.number, "", [row.problem]))
        return None
    try:
        return _check_row(row, mapping, archive, settings, seen_ids, report, store, checked_names)
    except Exception as exc:  # a bug, not the merchant's doing: this row is rejected and the import goes on
        log.exception("import row %d could not be checked", row.number)
        raw_id = row.values.get(mapping.id)
        report.rejected.append(
            RowError(
                row.number,
                raw_id if isinstance(raw_id, str) else "",
                [f"this row could not be checked (internal error {type(exc).__name__}); it was not imported"],
            )
        )
        return None


def _check_row(
    row: RawRow,
    mapping: ColumnMapping,
    archive: ImageArchive | None,
    settings: Settings,
    seen_ids: set[str],
    report: ImportReport,
    store: ImageStore,
    checked_names: dict[str, CheckedImage | str],
) -> _ValidRow | None:
    raw, image_names, reasons = mapping.to_raw_item(row.values)
    draft = None
    try:
        draft = validate_item(
            raw,
            max_title_chars=settings.max_title_chars,
            max_description_chars=settings.max_description_chars,
            require_id=True,
        )
        external_id = draft.external_id
    except InvalidInput as exc:
        reasons.extend(exc.problems)
        external_id = _raw_id(raw["external_id"])
    if external_id and external_id in seen_ids:
        reasons.append(f"duplicate id {shown(external_id)} (first seen on an earlier row)")
    images: list[CheckedImage] = []
    check_image_count(len(image_names), settings.max_images_per_item, reasons)
    for name in image_names[: settings.max_images_per_item]:
        if archive is None:
            reasons.append(f"image {name!r} named but no images zip was given")
            continue
        if name not in checked_names:
            checked_names[name] = _check_member(archive, name, settings, store)
        outcome = checked_names[name]
        if isinstance(outcome, str):
            reasons.append(f"image {name!r}: {outcome}")
        else:
            images.append(outcome)
    if external_id:
        seen_ids.add(external_id)
    if reasons or draft is None:
        report.rejected.append(RowError(row.number, external_id, reasons))
        return None
    return _ValidRow(row.number, draft, images)


def _raw_id(value: object) -> str:
    """A rejected row's id as the report shows it: text as given, or a whole number (JSONL, Parquet ids)."""
    if isinstance(value, str):
        return value.strip()
    number = whole_number(value)
    return "" if number is None else str(number)


def _check_member(archive: ImageArchive, name: str, settings: Settings, store: ImageStore) -> CheckedImage | str:
    """The checked image (stored, bytes dropped) or why it was rejected; each member is decoded once per import.

    Storing at check time keeps a batch from holding hundreds of images in memory; a row rejected later leaves
    an unreferenced, content-addressed file, never half an item.
    """
    try:
        data = archive.read(name, max_bytes=settings.max_upload_bytes)
        image = check_image(data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels)
    except KeyError:
        return "is not in the zip"
    except (ValueError, ImageRejected) as exc:
        return str(exc)
    try:
        store.put(image)
    except OSError as exc:  # disk full, permissions: the row cannot be imported, the merchant should know why
        return f"could not be stored ({exc.strerror or exc})"
    return image.without_data()


def _commit_batch(
    valid: list[_ValidRow],
    sessions: sessionmaker[Session],
    store: ImageStore,
    merchant_name: str,
    report: ImportReport,
) -> None:
    if not valid:
        return
    added_ids, updated_ids = [], []
    unchanged = 0
    try:
        with sessions.begin() as session:  # one transaction per batch: all rows or none
            merchant = repo.get_or_create_merchant(session, merchant_name)
            existing = repo.find_by_external_ids(session, merchant, [v.draft.external_id for v in valid])
            new_items = []
            for row in valid:
                item = existing.get(row.draft.external_id)
                if item is None:
                    new_items.append(repo.add_item(session, merchant, row.draft, row.images, store))
                    continue
                changed = repo.update_item_fields(item, row.draft)
                # A row that names images says what the item's images are (so re-imports never pile them up
                # past the cap); a row that names none leaves them as they are.
                if row.images:
                    changed = repo.replace_images(item, row.images, store) or changed
                changed = repo.add_missing_reviews(item, row.draft.reviews) > 0 or changed
                if changed:
                    updated_ids.append(item.id)
                else:
                    unchanged += 1
            session.flush()
            added_ids = [item.id for item in new_items]
    except Exception as exc:  # the whole batch rolled back; say so per row
        log.exception("import batch of %d rows rolled back", len(valid))
        for row in valid:
            report.rejected.append(
                RowError(row.number, row.draft.external_id, [f"database error, batch rolled back: {shown(exc, 300)}"])
            )
        return
    report.added += len(added_ids)
    report.updated += len(updated_ids)
    report.unchanged += unchanged
    report.added_item_ids.extend(added_ids)
    report.updated_item_ids.extend(updated_ids)
