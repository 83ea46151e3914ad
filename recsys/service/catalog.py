"""The catalog half of the service: items, images, reviews, imports, browsing and stats.

It owns the ``CatalogStore`` (database sessions, image files, change notifications) and is where writes are
validated and checked against the acting principal (``permissions``): every change takes it as its first argument.
It imports no model code, so catalog commands start fast.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from recsys.accounts.principal import SYSTEM, Principal
from recsys.catalog import repository as repo
from recsys.catalog.demo import DEMO_MERCHANT, attach_demo_reviews, read_seed_state, write_seed_state
from recsys.catalog.events_import import EventsReport, import_events
from recsys.catalog.image_gc import ImageGcReport, collect_unreferenced_images
from recsys.catalog.images import CheckedImage, ImageInput, check_uploads
from recsys.catalog.importer import ImportReport, import_catalog
from recsys.catalog.mapping import PRESETS, parse_overrides
from recsys.catalog.models import Item, Review
from recsys.catalog.plain_text import kind_of, shown
from recsys.catalog.store import CatalogStore
from recsys.catalog.validation import (
    InvalidInput,
    ItemDraft,
    parse_image_ids,
    validate_item,
    validate_merchant_name,
    validate_review,
    whole_number,
)
from recsys.catalog.views import ItemView, item_view
from recsys.config import Settings, get_settings
from recsys.progress import Progress
from recsys.service.errors import NotAllowed, NotFound
from recsys.service.identity import Identity
from recsys.service.instacart_seed import seed_instacart
from recsys.service.limits import HourlyLimit
from recsys.service.permissions import acting_merchant, require, require_owner

log = logging.getLogger(__name__)
SEEDING = "seeding the demo catalog"  # the start-up phase (service/startup.py)
DEMOS = ("fashion", "instacart")  # RECSYS_DEMO


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
        self.identity = Identity(self.store, self.settings)
        self.identity.ensure_first_admin()
        self.import_rows = HourlyLimit("bulk-import rows", self.settings.import_rows_per_hour)
        self.reviews = HourlyLimit("reviews", self.settings.reviews_per_hour)

    # --- single items ------------------------------------------------------------------------------

    def check_images(self, images: Sequence[ImageInput], already: int = 0) -> list[CheckedImage]:
        """Each image checked (bytes, or a path to a file); ``already`` images the item keeps count to the cap."""
        settings = self.settings
        return check_uploads(
            images,
            already=already,
            max_images=settings.max_images_per_item,
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.max_image_pixels,
        )

    def _validate(self, fields: Any, require_id: bool = False) -> ItemDraft:
        return validate_item(
            fields,
            max_title_chars=self.settings.max_title_chars,
            max_description_chars=self.settings.max_description_chars,
            require_id=require_id,
        )

    def add_item(
        self, actor: Principal, fields: dict[str, Any], images: Sequence[ImageInput] = (), merchant: str | None = None
    ) -> ItemView:
        """Validate everything first; then write the item, its images and reviews in one transaction.

        The item is the acting merchant's; an admin may name another ``merchant`` (default: the default one)."""
        owner_name = _merchant_name(acting_merchant(actor, merchant, repo.DEFAULT_MERCHANT))
        problems: list[str] = []
        draft, checked = None, []
        try:
            draft = self._validate(fields)
        except InvalidInput as exc:
            problems += exc.problems
        try:
            checked = self.check_images(images)
        except InvalidInput as exc:
            problems += exc.problems
        if problems or draft is None:
            raise InvalidInput(problems)  # report fields and images together, write nothing
        with self.sessions.begin() as session:
            owner = repo.get_or_create_merchant(session, owner_name)
            if draft.external_id and repo.find_by_external_ids(session, owner, [draft.external_id]):
                raise InvalidInput([f"id {draft.external_id!r} already exists for merchant {owner.name!r}"])
            item = repo.add_item(session, owner, draft, checked, self.images)
            session.flush()
            view = item_view(item, self.images)
        self.store.notify("upsert", [view.id])
        return view

    def update_item(
        self,
        actor: Principal,
        item_id: int,
        fields: dict[str, Any],
        add_images: Sequence[ImageInput] = (),
        remove_image_ids: Sequence[int] = (),
    ) -> ItemView:
        """Change some fields (the others stay), add and remove images; all checked first, all or nothing."""
        item_id = _item_id(item_id)
        if not isinstance(fields, Mapping):
            raise InvalidInput([f"an item must be an object of fields, not {kind_of(fields)}"])
        removing = parse_image_ids(remove_image_ids)
        with self.sessions.begin() as session:
            item = self._owned_item(session, item_id, actor)
            problems = []
            if "reviews" in fields:
                problems.append("reviews cannot be changed by an update; post them with add_review")
            if "external_id" in fields and fields["external_id"] != item.external_id:
                problems.append(f"the id of an item cannot be changed (it is {item.external_id!r})")
            try:
                draft = self._validate({**_item_fields(item), **fields, "external_id": item.external_id})
            except InvalidInput as exc:
                problems += exc.problems
            unknown = sorted(removing - {img.id for img in item.images})
            if unknown:
                problems.append(f"image(s) {', '.join(map(str, unknown))} are not images of item {item_id}")
            try:
                checked = self.check_images(add_images, already=len(item.images) - len(removing) if not unknown else 0)
            except InvalidInput as exc:
                problems += exc.problems
            if problems:
                raise InvalidInput(problems)  # the transaction rolls back: nothing changed
            repo.update_item_fields(item, draft)
            item.images = [img for img in item.images if img.id not in removing]
            repo.attach_images(item, checked, self.images)
            for position, image in enumerate(item.images):
                image.position = position
            session.flush()
            view = item_view(item, self.images)
        self.store.notify("upsert", [item_id])
        return view

    def add_review(self, actor: Principal, item_id: int, rating: Any, title: str = "", text: str = "") -> ItemView:
        """Post a signed-in shopper's review: the same rules as reviews in an upload (``validate_review``); one
        review per account and item, and at most ``reviews_per_hour`` per account."""
        require(actor, "review")
        item_id = _item_id(item_id)
        problems: list[str] = []
        review = validate_review({"rating": rating, "title": title, "text": text}, problems)
        if problems or review is None:
            raise InvalidInput(problems or ["invalid review"])
        with self.sessions.begin() as session:
            item = repo.get_item(session, item_id)
            if item is None:
                raise NotFound(f"item {item_id} does not exist")
            if any(r.author == actor.name for r in item.reviews):
                raise NotAllowed("not allowed: you have already reviewed this item")
            if item.merchant.name == actor.name:
                raise NotAllowed("not allowed: merchants cannot review their own items")
            self.reviews.spend(actor)
            item.reviews.append(Review(rating=review.rating, title=review.title, text=review.text, author=actor.name))
            session.flush()
            view = item_view(item, self.images)
        self.store.notify("upsert", [item_id])
        return view

    def delete_item(self, actor: Principal, item_id: int) -> None:
        with self.sessions.begin() as session:
            item = self._owned_item(session, item_id, actor)
            session.delete(item)
        self.store.notify("delete", [item_id])

    def get_item(self, item_id: int) -> ItemView:
        view = self.store.get_item(item_id)
        if view is None:
            raise NotFound(f"item {item_id} does not exist")
        return view

    def get_items(self, item_ids: Sequence[int], *, with_reviews: bool = True) -> dict[int, ItemView]:
        return self.store.get_items(item_ids, with_reviews=with_reviews)

    def _owned_item(self, session: Session, item_id: Any, actor: Principal) -> Item:
        require(actor, "edit items")  # before the lookup: an anonymous caller learns nothing about ids
        item = repo.get_item(session, _item_id(item_id))
        if item is None:
            raise NotFound(f"item {item_id} does not exist")
        require_owner(actor, item.merchant.name)
        return item

    # --- bulk import ------------------------------------------------------------------------------

    def import_bundle(
        self,
        actor: Principal,
        catalog_path: Path,
        images_zip: Path | None = None,
        *,
        preset: str = "default",
        mapping_overrides: str | list[str] | dict[str, str] | None = None,
        merchant: str | None = None,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import a catalog file (and its images zip) as the acting merchant's items (an admin may name another
        ``merchant``). Re-imported ids update only that merchant's own items. Bad arguments give a refused
        report, never an exception; NotAllowed when the actor may not import or is over the hourly row limit."""
        merchant = acting_merchant(actor, merchant, repo.DEFAULT_MERCHANT)
        self.import_rows.require_room(actor)
        if not isinstance(preset, str) or preset not in PRESETS:
            return ImportReport(refused=f"unknown preset {shown(preset)}; choose one of {', '.join(PRESETS)}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            return ImportReport(refused=f"limit {shown(limit)} must be a whole number >= 0")
        if not isinstance(catalog_path, (str, Path)) or not str(catalog_path).strip():
            return ImportReport(refused="no catalog file was given")
        if images_zip is not None and not isinstance(images_zip, (str, Path)):
            return ImportReport(refused=f"the images zip must be a file path, not {kind_of(images_zip)}")
        try:
            overrides = mapping_overrides if isinstance(mapping_overrides, dict) else parse_overrides(mapping_overrides)
            mapping = PRESETS[preset].with_overrides(overrides)
            owner = _merchant_name(merchant)
        except InvalidInput as exc:
            return ImportReport(refused="; ".join(exc.problems))
        except ValueError as exc:
            return ImportReport(refused=str(exc))
        report = import_catalog(
            Path(catalog_path),
            Path(images_zip) if images_zip else None,
            mapping,
            sessions=self.sessions,
            store=self.images,
            settings=self.settings,
            merchant_name=owner,
            limit=limit,
            progress=progress,
        )
        self.import_rows.record(actor, report.total_rows)
        changed = report.added_item_ids + report.updated_item_ids
        if changed:
            self.store.notify("upsert", changed)
        return report

    def import_events(
        self,
        actor: Principal,
        path: Path,
        *,
        merchant: str | None = None,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> EventsReport:
        """Import interaction history (user, item external id, event, time, order) for the acting merchant's items;
        an admin may name any ``merchant`` or none (then an item id must be one merchant's only). Bad arguments
        give a refused report; NotAllowed when the actor may not import or is over the hourly row limit."""
        require(actor, "import events")
        owner = None if actor.is_admin and not merchant else acting_merchant(actor, merchant, repo.DEFAULT_MERCHANT)
        self.import_rows.require_room(actor)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            return EventsReport(refused=f"limit {shown(limit)} must be a whole number >= 0")
        if not isinstance(path, (str, Path)) or not str(path).strip():
            return EventsReport(refused="no events file was given")
        try:
            owner = None if owner is None else _merchant_name(owner)
        except InvalidInput as exc:
            return EventsReport(refused="; ".join(exc.problems))
        settings, sessions = self.settings, self.sessions
        report = import_events(
            Path(path), sessions=sessions, settings=settings, merchant_name=owner, limit=limit, progress=progress
        )
        self.import_rows.record(actor, report.total_rows)
        return report

    def seed_demo(self, progress: Progress | None = None) -> ImportReport | None:
        """First start with an empty catalog: seed the demo ``settings.demo`` names, when its files are present, as
        the ``demo`` merchant's items: "fashion" (with reviews of similar garments) or "instacart" (groceries with
        their real baskets, ``service/instacart_seed.py``). None when there is nothing to seed.

        A seed that was killed is finished by the next start (``catalog/demo.py`` says how it knows); a catalog
        that has items but no seed marker (the merchant's own, or seeded before markers existed) is left alone.
        """
        settings = self.settings
        if settings.demo not in DEMOS:
            log.warning("RECSYS_DEMO=%r is not one of %s: nothing seeded", settings.demo, DEMOS)
            return None
        styles = settings.demo_dir / "styles.csv"
        if settings.demo == "instacart":
            styles = settings.instacart_dir / "order_products.csv"
        state = read_seed_state(settings.data_dir)
        if (state or {}).get("state") == "done" or settings.demo_limit <= 0 or not styles.is_file():
            return None
        if state is None and self.stats()["items"] > 0:
            return None
        resuming = state is not None
        if settings.demo == "instacart":
            return seed_instacart(
                self, resuming, None if progress is None else lambda n, of, _: progress(n, of, SEEDING)
            )
        write_seed_state(
            settings.data_dir, {"state": "seeding", "demo_dir": str(settings.demo_dir), "limit": settings.demo_limit}
        )
        log.info(
            "%s %d demo items from %s",
            "resuming the seed of" if resuming else "seeding",
            settings.demo_limit,
            settings.demo_dir,
        )
        images = settings.demo_dir / "images.zip"
        report = self.import_bundle(
            SYSTEM,
            styles,
            images if images.is_file() else None,
            preset="fashion",
            merchant=DEMO_MERCHANT,
            limit=settings.demo_limit,
            progress=None if progress is None else lambda done, total, _: progress(done, total, SEEDING),
        )
        log.info("demo import: %s", report.summary())
        if not report.ok:
            log.warning("the demo catalog was refused; the next start tries again: %s", report.refused)
            return report
        reviews = attach_demo_reviews(self.sessions, settings.demo_reviews_path, merchant=DEMO_MERCHANT)
        write_seed_state(
            settings.data_dir,
            {
                "state": "done",
                "demo_dir": str(settings.demo_dir),
                "limit": settings.demo_limit,
                "rows": report.total_rows,
                "rejected": len(report.rejected),
                "reviews_added": reviews,
            },
        )
        return report

    # --- browsing and stats -----------------------------------------------------------------------

    def browse(
        self,
        page: int = 1,
        text: str = "",
        category: str = "",
        merchant: str = "",
        min_price: float | None = None,
        max_price: float | None = None,
    ) -> BrowsePage:
        with self.sessions() as session:
            result = repo.browse(
                session,
                page=page,
                page_size=self.settings.page_size,
                text=text,
                category=category,
                merchant_name=merchant,
                min_price=min_price,
                max_price=max_price,
            )
            views = [item_view(i, self.images, with_reviews=False) for i in result.items]
            return BrowsePage(views, result.total, result.page, result.pages)

    def categories(self) -> list[tuple[str, int]]:
        with self.sessions() as session:
            return repo.category_counts(session)

    def stats(self) -> dict[str, Any]:
        with self.sessions() as session:
            return repo.stats(session)

    def collect_image_garbage(
        self, actor: Principal, min_age_hours: float = 24.0, dry_run: bool = False
    ) -> ImageGcReport:
        """Remove stored image files that no item references any more (catalog/image_gc.py says why it is safe)."""
        require(actor, "collect image garbage")
        with self.sessions() as session:
            referenced = repo.referenced_image_paths(session)
        return collect_unreferenced_images(self.images, referenced, min_age_s=min_age_hours * 3600, dry_run=dry_run)

    def close(self) -> None:
        """Release database connections."""
        self.store.close()


def _merchant_name(name: str | None) -> str:
    return validate_merchant_name(name, repo.DEFAULT_MERCHANT)


def _item_fields(item: Item) -> dict[str, Any]:
    return {
        k: getattr(item, k) for k in ("title", "description", "brand", "category", "attributes", "price", "currency")
    }


def _item_id(value: Any) -> int:
    """An item id as the API takes it (an int, or its digits as text); anything else names no item."""
    number = whole_number(value)
    if number is None:
        raise NotFound(f"item {shown(value)} does not exist (item ids are whole numbers)")
    return number
