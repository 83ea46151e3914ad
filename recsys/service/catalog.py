"""The catalog half of the service: items, images, reviews, imports, browsing and stats.

It owns the ``CatalogStore`` (database sessions, image files, change notifications) and is where writes are
validated and checked against the acting merchant. It imports no model code, so catalog commands start fast.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from recsys.catalog import repository as repo
from recsys.catalog.demo import attach_demo_reviews
from recsys.catalog.image_gc import ImageGcReport, collect_unreferenced_images
from recsys.catalog.images import CheckedImage, ImageRejected, check_image
from recsys.catalog.importer import ImportReport, import_catalog
from recsys.catalog.mapping import PRESETS, parse_overrides
from recsys.catalog.models import Item, Review
from recsys.catalog.store import CatalogStore
from recsys.catalog.validation import InvalidInput, validate_item, validate_merchant_name, validate_review
from recsys.catalog.views import ItemView, item_view
from recsys.config import Settings, get_settings
from recsys.progress import Progress
from recsys.service.errors import NotAllowed, NotFound

log = logging.getLogger(__name__)

ImageInput = bytes | str | Path


@dataclass(frozen=True)
class BrowsePage:
    items: list[ItemView]
    total: int
    page: int
    pages: int


class CatalogService:
    """Catalog half of the facade: items, images, reviews, imports, browsing and stats."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.store = CatalogStore(self.settings)
        self.sessions = self.store.sessions  # the service's own transactions
        self.images = self.store.images

    # --- single items ------------------------------------------------------------------------------

    def check_images(self, images: Sequence[ImageInput]) -> list[CheckedImage]:
        problems, checked = [], []
        if len(images) > self.settings.max_images_per_item:
            raise InvalidInput([f"{len(images)} images, over the limit of {self.settings.max_images_per_item}"])
        for number, image in enumerate(images, start=1):
            name = Path(image).name if isinstance(image, (str, Path)) else f"image {number}"
            try:
                data = _read_upload(image, self.settings.max_upload_bytes)
                checked.append(check_image(data, max_bytes=self.settings.max_upload_bytes,
                                           max_pixels=self.settings.max_image_pixels))
            except (ImageRejected, OSError) as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise InvalidInput(problems)
        return checked

    def add_item(self, fields: dict[str, Any], images: Sequence[ImageInput] = (),
                 merchant: str = repo.DEFAULT_MERCHANT) -> ItemView:
        """Validate everything first; then write the item, its images and reviews in one transaction."""
        problems: list[str] = []
        draft, checked = None, []
        try:
            draft = validate_item(fields, max_title_chars=self.settings.max_title_chars,
                                  max_description_chars=self.settings.max_description_chars)
        except InvalidInput as exc:
            problems += exc.problems
        try:
            checked = self.check_images(images)
        except InvalidInput as exc:
            problems += exc.problems
        if problems or draft is None:
            raise InvalidInput(problems)  # report fields and images together, write nothing
        with self.sessions.begin() as session:
            owner = repo.get_or_create_merchant(session, _merchant_name(merchant))
            if draft.external_id and repo.find_by_external_ids(session, owner, [draft.external_id]):
                raise InvalidInput([f"id {draft.external_id!r} already exists for merchant {owner.name!r}"])
            item = repo.add_item(session, owner, draft, checked, self.images)
            session.flush()
            view = item_view(item, self.images)
        self.store.notify("upsert", [view.id])
        return view

    def update_item(self, item_id: int, fields: dict[str, Any], add_images: Sequence[ImageInput] = (),
                    remove_image_ids: Sequence[int] = (), merchant: str = repo.DEFAULT_MERCHANT) -> ItemView:
        checked = self.check_images(add_images)
        with self.sessions.begin() as session:
            item = self._owned_item(session, item_id, merchant)
            merged = {**_item_fields(item), **fields, "external_id": item.external_id, "reviews": []}
            draft = validate_item(merged, max_title_chars=self.settings.max_title_chars,
                                  max_description_chars=self.settings.max_description_chars)
            repo.update_item_fields(item, draft)
            removing = set(map(int, remove_image_ids))
            item.images = [img for img in item.images if img.id not in removing]
            if len(item.images) + len(checked) > self.settings.max_images_per_item:
                raise InvalidInput([f"an item holds at most {self.settings.max_images_per_item} images"])
            repo.attach_images(item, checked, self.images)
            for position, image in enumerate(item.images):
                image.position = position
            session.flush()
            view = item_view(item, self.images)
        self.store.notify("upsert", [item_id])
        return view

    def add_review(self, item_id: int, rating: Any, title: str = "", text: str = "") -> ItemView:
        problems: list[str] = []
        review = validate_review({"rating": rating, "title": title, "text": text}, problems)
        if problems or review is None:
            raise InvalidInput(problems or ["invalid review"])
        with self.sessions.begin() as session:
            item = repo.get_item(session, item_id)
            if item is None:
                raise NotFound(f"item {item_id} does not exist")
            item.reviews.append(Review(rating=review.rating, title=review.title, text=review.text))
            session.flush()
            view = item_view(item, self.images)
        self.store.notify("upsert", [item_id])
        return view

    def delete_item(self, item_id: int, merchant: str = repo.DEFAULT_MERCHANT) -> None:
        with self.sessions.begin() as session:
            item = self._owned_item(session, item_id, merchant)
            session.delete(item)
        self.store.notify("delete", [item_id])

    def get_item(self, item_id: int) -> ItemView:
        view = self.store.get_item(item_id)
        if view is None:
            raise NotFound(f"item {item_id} does not exist")
        return view

    def get_items(self, item_ids: Sequence[int]) -> dict[int, ItemView]:
        return self.store.get_items(item_ids)

    def _owned_item(self, session: Session, item_id: int, merchant: str) -> Item:
        item = repo.get_item(session, item_id)
        if item is None:
            raise NotFound(f"item {item_id} does not exist")
        if item.merchant.name != _merchant_name(merchant):
            raise NotAllowed(f"item {item_id} belongs to merchant {item.merchant.name!r}, not {merchant!r}")
        return item

    # --- bulk import ------------------------------------------------------------------------------

    def merchant_name(self, name: str | None) -> str:
        """The cleaned merchant name (the default merchant when empty); raises InvalidInput."""
        return _merchant_name(name)

    def import_bundle(self, catalog_path: Path, images_zip: Path | None = None, *, preset: str = "default",
                      mapping_overrides: str | list[str] | dict[str, str] | None = None,
                      merchant: str = repo.DEFAULT_MERCHANT, limit: int | None = None,
                      progress: Progress | None = None) -> ImportReport:
        if preset not in PRESETS:
            return ImportReport(refused=f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        try:
            overrides = mapping_overrides if isinstance(mapping_overrides, dict) else parse_overrides(mapping_overrides)
            mapping = PRESETS[preset].with_overrides(overrides)
        except ValueError as exc:
            return ImportReport(refused=str(exc))
        report = import_catalog(Path(catalog_path), Path(images_zip) if images_zip else None, mapping,
                                sessions=self.sessions, store=self.images, settings=self.settings,
                                merchant_name=_merchant_name(merchant), limit=limit, progress=progress)
        changed = report.added_item_ids + report.updated_item_ids
        if changed:
            self.store.notify("upsert", changed)
        return report

    def seed_demo(self) -> ImportReport | None:
        """First start with an empty catalog: import the fashion demo set, when present, as the ``demo``
        merchant's items, and attach its reviews. None when there is nothing to seed."""
        settings = self.settings
        styles = settings.demo_dir / "styles.csv"
        if settings.demo_limit <= 0 or not styles.exists() or self.stats()["items"] > 0:
            return None
        log.info("seeding %d demo items from %s", settings.demo_limit, settings.demo_dir)
        report = self.import_bundle(styles, settings.demo_dir / "images.zip", preset="fashion", merchant="demo",
                                    limit=settings.demo_limit)
        log.info("demo import: %s", report.summary())
        attach_demo_reviews(self.sessions, settings.demo_reviews_path)
        return report

    # --- browsing and stats -----------------------------------------------------------------------

    def browse(self, page: int = 1, text: str = "", category: str = "", merchant: str = "",
               min_price: float | None = None, max_price: float | None = None) -> BrowsePage:
        with self.sessions() as session:
            result = repo.browse(session, page=page, page_size=self.settings.page_size, text=text,
                                 category=category, merchant_name=merchant, min_price=min_price, max_price=max_price)
            views = [item_view(i, self.images, with_reviews=False) for i in result.items]
            return BrowsePage(views, result.total, result.page, result.pages)

    def categories(self) -> list[tuple[str, int]]:
        with self.sessions() as session:
            return repo.category_counts(session)

    def stats(self) -> dict[str, Any]:
        with self.sessions() as session:
            return repo.stats(session)

    def collect_image_garbage(self, min_age_hours: float = 24.0, dry_run: bool = False) -> ImageGcReport:
        """Remove stored image files that no item references any more (catalog/image_gc.py says why it is safe)."""
        with self.sessions() as session:
            referenced = repo.referenced_image_paths(session)
        return collect_unreferenced_images(self.images, referenced, min_age_s=min_age_hours * 3600, dry_run=dry_run)

    def close(self) -> None:
        """Release database connections."""
        self.store.close()


def _merchant_name(name: str | None) -> str:
    return validate_merchant_name(name, repo.DEFAULT_MERCHANT)


def _item_fields(item: Item) -> dict[str, Any]:
    return {k: getattr(item, k) for k in ("title", "description", "brand", "category", "attributes", "price",
                                          "currency")}


def _read_upload(image: ImageInput, max_bytes: int) -> bytes:
    if isinstance(image, bytes):
        return image
    path = Path(image)
    if path.stat().st_size > max_bytes:
        raise ImageRejected(f"file is {path.stat().st_size / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
    return path.read_bytes()
