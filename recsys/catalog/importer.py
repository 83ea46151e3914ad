"""Bulk import: catalog file + images zip -> validated items, committed atomically per batch.

Every row is validated (fields, then each image) before its batch touches the database; a row with any
problem is rejected with its reasons and nothing of it is written. Rows whose id already exists are
compared and updated or left alone, so re-running an import adds nothing.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy.orm import Session, sessionmaker

from ..config import Settings
from . import repository as repo
from .bulk_files import ImageArchive, ImportRefused, RawRow, iter_batches, read_catalog_rows
from .images import CheckedImage, ImageRejected, ImageStore, check_image
from .mapping import ColumnMapping
from .validation import InvalidInput, ItemDraft, validate_item

Progress = Callable[[int, int, str], None]


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
    ignored_files: list[str] = field(default_factory=list)
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
            catalog_path, required_columns=mapping.required_columns(), join_overflow=mapping.join_overflow,
            max_bytes=settings.max_catalog_bytes,
        )
        if images_zip is not None:
            archive = ImageArchive.open(images_zip, max_zip_bytes=settings.max_zip_bytes,
                                        max_entries=settings.max_zip_entries)
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
            valid = [v for v in (_validate_row(r, mapping, archive, settings, seen_ids, report, store, checked_names)
                                  for r in batch) if v]
            _commit_batch(valid, sessions, store, merchant_name, report)
            done += len(batch)
            if progress:
                progress(done, len(rows), report.summary())
    finally:
        if archive is not None:
            archive.close()
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
    if row.problem:
        report.rejected.append(RowError(row.number, "", [f"row {row.problem}"]))
        return None
    raw, image_names = mapping.to_raw_item(row.values)
    external_id = str(raw.get("external_id") or "").strip()
    reasons: list[str] = []
    if not external_id:
        reasons.append(f"column {mapping.id!r} (id) is empty")
    elif external_id in seen_ids:
        reasons.append(f"duplicate id {external_id!r} (first seen on an earlier row)")
    try:
        draft = validate_item(
            raw, max_title_chars=settings.max_title_chars, max_description_chars=settings.max_description_chars
        )
    except InvalidInput as exc:
        reasons.extend(exc.problems)
        draft = None
    images: list[CheckedImage] = []
    if len(image_names) > settings.max_images_per_item:
        reasons.append(f"{len(image_names)} images, over the limit of {settings.max_images_per_item}")
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
    store.put(image)
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
                known = {img.sha256 for img in item.images}
                fresh = [img for img in row.images if img.sha256 not in known]
                if fresh:
                    repo.attach_images(item, fresh, store)
                if changed or fresh:
                    updated_ids.append(item.id)
                else:
                    unchanged += 1
            session.flush()
            added_ids = [item.id for item in new_items]
    except Exception as exc:  # the whole batch rolled back; say so per row
        for row in valid:
            report.rejected.append(RowError(row.number, row.draft.external_id, [f"database error, batch rolled back: {exc}"]))
        return
    report.added += len(added_ids)
    report.updated += len(updated_ids)
    report.unchanged += unchanged
    report.added_item_ids.extend(added_ids)
    report.updated_item_ids.extend(updated_ids)
