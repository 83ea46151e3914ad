"""Review opinions as the app and the CLI use them: the model, the live index, and who may see what.

Shoppers see any item's opinion summary (it is built from public reviews). The merchant view (complaints per
aspect, rising complaints, the sentences behind each number) covers a merchant's own items only; an admin may look
at any merchant's, or all. The index follows the catalog: a committed review is classified on its own (the
catalog's change notification), a deleted item's mentions go with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsys.accounts.principal import Principal
from recsys.catalog import review_reads
from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.opinions.aspects import load_aspects
from recsys.opinions.fitting import fit_from_reviews
from recsys.opinions.index import OpinionIndex
from recsys.opinions.mentions import Mention, ReviewText
from recsys.opinions.merchant import (
    AspectComplaints,
    RisingComplaint,
    complaints_by_aspect,
    rising_complaints,
    sentences_behind,
)
from recsys.opinions.model import OpinionModel
from recsys.opinions.store import load_current, save_model
from recsys.opinions.summary import ItemOpinions
from recsys.opinions.vectors import SentenceVectors
from recsys.search.types import NotReady
from recsys.service.errors import NotAllowed, NotFound
from recsys.service.jobs import BackgroundJob
from recsys.service.permissions import require

log = logging.getLogger(__name__)
REVIEWS_CSV_COLUMNS = ("Clothing ID", "Rating", "Title", "Review Text", "Recommended IND")


@dataclass(frozen=True)
class MerchantOpinions:
    merchant: str | None  # None: every merchant's items (admin)
    items: dict[int, str]  # item id -> title, the items covered
    complaints: list[AspectComplaints]
    rising: list[RisingComplaint]
    recent_days: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row_review(row: review_reads.ReviewRow) -> ReviewText:
    return ReviewText(row.review_id, row.item_id, row.rating, row.title or "", row.text or "", row.created_at)


class Opinions:
    def __init__(self, store: CatalogStore, settings: Settings) -> None:
        self.store, self.settings = store, settings
        extra = Path(settings.opinion_aspects_path) if settings.opinion_aspects_path else None
        self.aspects = load_aspects(extra)
        self.vectors = SentenceVectors(
            settings.opinion_text_model, settings.data_dir / "cache", settings.device, settings.encode_batch_size
        )
        self.index: OpinionIndex | None = None
        self.job: BackgroundJob | None = None
        self._lock = threading.Lock()
        self._pending: set[int] = set()  # items changed while the index was being built
        self._no_reviews = False  # built, and the catalog had no review to analyse
        store.on_items_changed(self._items_changed)

    # --- building ----------------------------------------------------------------------------------

    def _training_reviews(self) -> tuple[list[ReviewText], list[int] | None, str]:
        path, limit = Path(self.settings.demo_reviews_path), self.settings.opinion_train_reviews
        if path.is_file():
            frame = pd.read_csv(path, usecols=list(REVIEWS_CSV_COLUMNS)).dropna(subset=["Clothing ID", "Rating"])
            if len(frame) > limit > 0:
                frame = frame.sample(n=limit, random_state=0)
            reviews = [
                ReviewText(
                    k,
                    int(r["Clothing ID"]),
                    int(r["Rating"]),
                    "" if pd.isna(r["Title"]) else str(r["Title"]),
                    "" if pd.isna(r["Review Text"]) else str(r["Review Text"]),
                    datetime(1970, 1, 1, tzinfo=UTC),
                )
                for k, r in enumerate(frame.to_dict("records"))
            ]
            return reviews, frame["Recommended IND"].fillna(1).astype(int).tolist(), f"{len(reviews)} reviews of {path}"
        with self.store.sessions() as session:
            rows = review_reads.all_reviews(session)
        if 0 < limit < len(rows):
            rows = [rows[i] for i in sorted(np.random.default_rng(0).choice(len(rows), limit, replace=False))]
        return [_row_review(r) for r in rows], None, f"{len(rows)} catalog reviews"

    def model(self) -> OpinionModel:
        """The saved model for the current aspect list and text model; trained and saved when there is none."""
        found = load_current(self.settings.models_dir, self.aspects, self.vectors.model_name)
        if found is not None:
            return found
        reviews, recommended, source = self._training_reviews()
        model = fit_from_reviews(reviews, recommended, self.aspects, self.vectors, self.vectors.model_name)
        model.metrics["trained_on"] = source
        log.info("opinion model saved to %s", save_model(self.settings.models_dir, model))
        return model

    def build(self) -> str:
        """Load (or train) the model and classify every catalog review; synchronous (the CLI; the app's job).
        A catalog without reviews trains nothing (an empty app starts without the cost); its first review
        starts the build."""
        with self.store.sessions() as session:
            rows = review_reads.all_reviews(session)
        if not rows:
            with self._lock:
                self._no_reviews = True
            return "no reviews to analyse"
        index = OpinionIndex(self.model(), self.aspects, self.vectors)
        index.add_reviews([_row_review(r) for r in rows])
        with self._lock:
            self.index, self._no_reviews = index, False
            pending, self._pending = sorted(self._pending), set()
        if pending:
            self._items_changed("upsert", pending)
        return f"{len(rows)} reviews analysed"

    def start_in_background(self) -> BackgroundJob:
        with self._lock:
            job = self.job
            built = self.index is not None  # e.g. the ranker's training waited for it: not built twice
            if job is None or (not built and not job.running):
                job = self.job = BackgroundJob("opinions").start(lambda job: self.build())
            return job

    def _items_changed(self, kind: str, item_ids: list[int]) -> None:
        with self._lock:
            index = self.index
            if index is None:
                self._pending.update(item_ids)
                start = self._no_reviews and kind == "upsert"
        if index is None:
            if start:  # the first review of an empty catalog
                self.start_in_background()
            return
        if kind == "delete":
            index.drop_items(item_ids)
            return
        with self.store.sessions() as session:
            rows = review_reads.reviews_of(session, item_ids)
        index.add_reviews([_row_review(r) for r in rows])  # classifies only the reviews it has not seen

    def _ready(self) -> OpinionIndex:
        if self.index is None:
            if self._no_reviews:
                raise NotReady("no reviews to analyse yet")
            job = self.job
            if job is not None and job.status == "failed":
                raise NotReady(f"review opinions are unavailable: {job.message}")
            raise NotReady("review opinions are still being analysed")
        return self.index

    # --- reading -----------------------------------------------------------------------------------

    def current_index(self) -> OpinionIndex | None:
        """The live index for the search ranker's opinion columns; None until it is built (NaN columns)."""
        return self.index

    def built_index(self) -> OpinionIndex | None:
        """The index after its build (started now if none ran; a catalog without reviews has none): ranker training
        waits for it, so its lists carry the opinion columns that searches will be served with."""
        if self.index is None and not self._no_reviews:
            self.start_in_background().wait()
        return self.index

    def item_summary(self, item_id: int) -> ItemOpinions:
        """Anyone may read an item's summary."""
        with self.store.sessions() as session:
            if not review_reads.merchant_items_of(session, [int(item_id)]):
                raise NotFound(f"item {item_id} does not exist")
        if self.index is None and self._no_reviews:
            return ItemOpinions(int(item_id), 0, [])
        return self._ready().summary(int(item_id))

    def _scope(self, actor: Principal, merchant: str | None) -> tuple[str | None, dict[int, str]]:
        require(actor, "edit items")  # merchants and admins; a shopper has no merchant view
        if not actor.is_admin:
            if merchant not in (None, "", actor.name):
                raise NotAllowed("not allowed: a merchant sees opinions of their own items only")
            merchant = actor.name
        with self.store.sessions() as session:
            items = review_reads.merchant_items(session, merchant or None)
        return merchant or None, {i: title for i, (title, _) in items.items()}

    def merchant_view(
        self, actor: Principal, merchant: str | None = None, now: datetime | None = None
    ) -> MerchantOpinions:
        index = self._ready()
        name, items = self._scope(actor, merchant)
        mentions = index.mentions(items)
        days = self.settings.opinion_recent_days
        return MerchantOpinions(
            name,
            items,
            complaints_by_aspect(mentions, self.aspects),
            rising_complaints(mentions, now or datetime.now(UTC), days),
            days,
        )

    def sentences(
        self,
        actor: Principal,
        aspect: str,
        polarity: str | None = None,
        item_id: int | None = None,
        merchant: str | None = None,
    ) -> list[Mention]:
        """The sentences behind a number of the merchant view (own items only)."""
        if aspect not in {a.key for a in self.aspects}:
            raise NotFound(f"no aspect {aspect!r}; known: {', '.join(a.key for a in self.aspects)}")
        index = self._ready()
        _, items = self._scope(actor, merchant)
        if item_id is not None and int(item_id) not in items:
            raise NotAllowed("not allowed: that item is not yours")
        scope: Sequence[int] = [int(item_id)] if item_id is not None else list(items)
        return sentences_behind(index.mentions(scope), aspect, polarity)
