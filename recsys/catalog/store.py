"""The catalog's storage as the parts below the service see it: database sessions, image files, item views and
change notifications.

``CatalogStore`` is what search, training and evaluation read through; it checks no permissions (the service
does, above it) and validates nothing (``validation`` does, on the way in).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from recsys.catalog import repository as repo
from recsys.catalog.db import make_engine, make_session_factory, upgrade_schema
from recsys.catalog.images import ImageStore
from recsys.catalog.views import ItemView, item_view
from recsys.config import Settings

log = logging.getLogger(__name__)
ItemsChanged = Callable[[str, list[int]], None]  # (kind: "upsert" | "delete", item ids), after the commit


class CatalogStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db_engine = make_engine(settings.resolved_database_url)
        upgrade_schema(self.db_engine)
        self.sessions: sessionmaker[Session] = make_session_factory(self.db_engine)
        # Every item row written through these sessions carries its generation (saved item tables rely on it).
        event.listen(self.sessions, "before_flush", repo.stamp_item_generation)
        self.images = ImageStore(settings.image_dir)
        self._listeners: list[ItemsChanged] = []

    def on_items_changed(self, listener: ItemsChanged) -> None:
        """``listener(kind, item_ids)`` with kind "upsert" or "delete", called after each commit."""
        self._listeners.append(listener)

    def notify(self, kind: str, item_ids: list[int]) -> None:
        for listener in self._listeners:
            try:
                listener(kind, item_ids)
            except Exception:  # a failing listener must not undo a committed write
                log.exception("items-changed listener failed for %s %s", kind, item_ids)

    def get_item(self, item_id: int) -> ItemView | None:
        with self.sessions() as session:
            item = repo.get_item(session, item_id)
            return None if item is None else item_view(item, self.images)

    def get_items(self, item_ids: Sequence[int], *, with_reviews: bool = True) -> dict[int, ItemView]:
        """Views by id; ``with_reviews=False`` for lists (search results), which show no reviews."""
        with self.sessions() as session:
            found = repo.get_items(session, item_ids, with_reviews=with_reviews)
            return {i: item_view(item, self.images, with_reviews=with_reviews) for i, item in found.items()}

    def close(self) -> None:
        self.db_engine.dispose()
