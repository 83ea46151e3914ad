"""The service facade: the one object the UI and CLI talk to.

It owns the database session factory, the image store and (once loaded) the models and the index, and composes
them: catalog writes, bulk import, browsing, search and recommendations. Nothing here imports the UI.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from .catalog import repository as repo
from .catalog.db import make_engine, make_session_factory, upgrade_schema
from .catalog.image_gc import ImageGcReport, collect_unreferenced_images
from .catalog.images import CheckedImage, ImageRejected, ImageStore, check_image
from .catalog.importer import ImportReport, import_catalog
from .catalog.mapping import PRESETS, parse_overrides
from .catalog.models import Item
from .catalog.validation import InvalidInput, validate_item, validate_merchant_name
from .catalog.views import ItemView, item_view
from .config import Settings, get_settings

log = logging.getLogger(__name__)

ImageInput = bytes | str | Path


class NotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    pass


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
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db_engine = make_engine(self.settings.resolved_database_url)
        upgrade_schema(self.db_engine)
        self.sessions: sessionmaker[Session] = make_session_factory(self.db_engine)
        self.images = ImageStore(self.settings.image_dir)
        self._listeners: list[Callable[[str, list[int]], None]] = []

    # --- change notifications (the search index listens) -----------------------------------------

    def on_items_changed(self, listener: Callable[[str, list[int]], None]) -> None:
        """``listener(kind, item_ids)`` with kind "upsert" or "delete", called after each commit."""
        self._listeners.append(listener)

    def _notify(self, kind: str, item_ids: list[int]) -> None:
        for listener in self._listeners:
            try:
                listener(kind, item_ids)
            except Exception:  # a failing listener must not undo a committed write
                log.exception("items-changed listener failed for %s %s", kind, item_ids)

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
        self._notify("upsert", [view.id])
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
        self._notify("upsert", [item_id])
        return view

    def add_review(self, item_id: int, rating: Any, title: str = "", text: str = "") -> ItemView:
        from .catalog.models import Review
        from .catalog.validation import validate_review

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
        self._notify("upsert", [item_id])
        return view

    def delete_item(self, item_id: int, merchant: str = repo.DEFAULT_MERCHANT) -> None:
        with self.sessions.begin() as session:
            item = self._owned_item(session, item_id, merchant)
            session.delete(item)
        self._notify("delete", [item_id])

    def get_item(self, item_id: int) -> ItemView:
        with self.sessions() as session:
            item = repo.get_item(session, item_id)
            if item is None:
                raise NotFound(f"item {item_id} does not exist")
            return item_view(item, self.images)

    def get_items(self, item_ids: Sequence[int]) -> dict[int, ItemView]:
        with self.sessions() as session:
            return {i: item_view(item, self.images) for i, item in repo.get_items(session, item_ids).items()}

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
                      progress: Callable[[int, int, str], None] | None = None) -> ImportReport:
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
            self._notify("upsert", changed)
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


class TailLiftService(CatalogService):
    """The whole facade: the catalog plus search, similar items and behaviour logging over the loaded models.

    ``load_models`` runs once at start-up; until it has, search methods raise ``NotReady``.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.engine = None

    def load_models(self, progress: Callable[[int, int, str], None] | None = None,
                    train_missing_ranker: bool = False) -> None:
        """Load the encoder (training its heads first if needed) and build the index.

        ``train_missing_ranker`` (the app sets it) queues catalog-ranker training on the background worker when
        no ranker exists yet; short-lived processes (CLI, benchmarks) leave it off.
        """
        from .search.bootstrap import load_encoder
        from .search.engine import SearchEngine

        encoder = load_encoder(self.settings, self)
        self.engine = SearchEngine(self, encoder, self.settings)
        self.engine.build(progress)
        if (train_missing_ranker and self.settings.auto_train_ranker and self.engine.ranking.version == "fallback"
                and self.stats()["items"] >= self.settings.auto_train_min_items):
            # Searches are served by the fallback order meanwhile; the ranker is swapped in when done. Its own
            # thread, so uploads keep reaching the index through the engine's worker during the minutes it takes.
            threading.Thread(target=self._train_ranker_in_background, name="taillift-ranker", daemon=True).start()

    def _train_ranker_in_background(self) -> None:
        from .training.catalog_ranker import train_catalog_ranker

        log.info("training the catalog ranker in the background (no trained ranker yet)")
        try:
            result, path = train_catalog_ranker(self)
        except Exception:
            log.exception("background ranker training failed; search keeps the fallback order")
            return
        log.info("catalog ranker %s trained (CV nDCG@10 %.3f); now serving it", path.name, result.best.mean)
        self.engine.reload_ranker()

    # --- encoder versions: training runs, switch, rollback ------------------------------------------

    def serving_encoder_version(self) -> str | None:
        """The registry version whose vectors are served now (None for untrained heads or open_clip)."""
        from .training import registry

        version = self._engine().encoder.joint.version
        return version if version in registry.list_versions(self.settings) else None

    def encoder_versions(self) -> list[dict]:
        from .training.encoder_runs import encoder_versions

        serving = self.serving_encoder_version() if self.engine is not None else None
        return [{**row, "serving": row["version"] == serving} for row in encoder_versions(self.settings)]

    def start_encoder_run(self, options, on_done: Callable | None = None):
        """Start an ``EncoderRun`` (recsys.training.encoder_runs) in the background; its parent is the version
        serving now. The new version is saved, not served: ``switch_encoder`` serves it."""
        from .training.encoder_runs import EncoderRun

        engine = self._engine()
        return EncoderRun(self, options, parent=self.serving_encoder_version(), text=engine.encoder.text,
                          on_done=on_done).start()

    def switch_encoder(self, version: str, progress: Callable[[int, int, str], None] | None = None) -> str:
        """Serve encoder ``version``: encode the items it lacks, build its index beside the live one, swap it in
        with one reference assignment (searches meanwhile use the old model), then make it ACTIVE."""
        from .training import registry
        from .training.encoder_runs import create_encoder_for

        engine = self._engine()
        encoder = create_encoder_for(self.settings, version, text=engine.encoder.text)
        # On the engine's worker: item updates queued meanwhile then apply to the new state, not the old one.
        engine.call(engine.switch_encoder, encoder, progress)
        registry.activate(self.settings, version)
        return version

    def rollback(self, version: str | None = None,
                 progress: Callable[[int, int, str], None] | None = None) -> str:
        """Switch back to ``version``, by default to the version before the one serving now."""
        from .training.encoder_runs import encoder_versions

        if version is None:
            names = [row["version"] for row in reversed(encoder_versions(self.settings))]  # oldest first
            serving = self.serving_encoder_version()
            earlier = names[:names.index(serving)] if serving in names else []
            if not earlier:
                raise NotFound("no earlier encoder version to roll back to")
            version = earlier[-1]
        return self.switch_encoder(version, progress)

    def close(self) -> None:
        """Finish queued background work, stop the worker and release database connections."""
        if self.engine is not None:
            self.engine.close()
        self.db_engine.dispose()

    def _engine(self):
        from .search.engine import NotReady

        if self.engine is None:
            raise NotReady("models are not loaded yet")
        return self.engine

    def search(self, request):
        """``SearchRequest`` -> ``SearchResponse`` (see recsys.search.engine)."""
        return self._engine().search(request)

    def similar(self, item_id: int, k: int = 12):
        return self._engine().similar(item_id, k)

    def log_event(self, session_id: str, item_id: int, event: str, query: str = "", position: int | None = None) -> None:
        self._engine().log_event(session_id, item_id, event, query, position)
