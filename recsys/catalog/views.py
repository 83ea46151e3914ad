"""Plain, read-only views of catalog rows handed to the UI and CLI (no ORM objects leave the service)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from recsys.catalog.images import ImageStore
from recsys.catalog.models import Item


@dataclass(frozen=True)
class ReviewView:
    id: int
    rating: int
    title: str
    text: str
    source: str
    created_at: datetime


@dataclass(frozen=True)
class ImageView:
    id: int
    path: Path
    width: int
    height: int


@dataclass(frozen=True)
class ItemView:
    id: int
    external_id: str
    merchant: str
    title: str
    description: str
    brand: str
    category: str
    attributes: dict[str, Any]
    price: float | None
    currency: str
    created_at: datetime
    updated_at: datetime
    images: list[ImageView] = field(default_factory=list)
    reviews: list[ReviewView] = field(default_factory=list)

    @property
    def rating_mean(self) -> float | None:
        return sum(r.rating for r in self.reviews) / len(self.reviews) if self.reviews else None

    @property
    def price_label(self) -> str:
        return "" if self.price is None else f"{self.price:,.2f} {self.currency}"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["images"] = [str(i.path) for i in self.images]
        out["created_at"] = self.created_at.isoformat()
        out["updated_at"] = self.updated_at.isoformat()
        for review in out["reviews"]:
            review["created_at"] = review["created_at"].isoformat()
        return out


def item_view(item: Item, store: ImageStore, *, with_reviews: bool = True) -> ItemView:
    return ItemView(
        id=item.id,
        external_id=item.external_id,
        merchant=item.merchant.name if item.merchant else "",
        title=item.title,
        description=item.description,
        brand=item.brand,
        category=item.category,
        attributes=dict(item.attributes or {}),
        price=item.price,
        currency=item.currency,
        created_at=item.created_at,
        updated_at=item.updated_at,
        images=[ImageView(i.id, store.path(i.path), i.width, i.height) for i in item.images],
        reviews=[ReviewView(r.id, r.rating, r.title, r.text, r.source, r.created_at) for r in item.reviews]
        if with_reviews
        else [],
    )
