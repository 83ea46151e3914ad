"""Read-only review queries for opinion analysis: review texts (all, or of some items) and a merchant's items."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from recsys.catalog.models import Item, Merchant, Review


class ReviewRow(NamedTuple):
    review_id: int
    item_id: int
    rating: int
    title: str
    text: str
    created_at: datetime


def _rows(session: Session, item_ids: Iterable[int] | None) -> list[ReviewRow]:
    query = select(Review.id, Review.item_id, Review.rating, Review.title, Review.text, Review.created_at)
    if item_ids is not None:
        query = query.where(Review.item_id.in_(list(item_ids)))
    return [ReviewRow(*row) for row in session.execute(query.order_by(Review.id))]


def all_reviews(session: Session) -> list[ReviewRow]:
    return _rows(session, None)


def reviews_of(session: Session, item_ids: Iterable[int]) -> list[ReviewRow]:
    return _rows(session, item_ids)


def merchant_items(session: Session, merchant: str | None) -> dict[int, tuple[str, str]]:
    """item id -> (title, merchant name) of one merchant's items (every merchant's with None)."""
    query = select(Item.id, Item.title, Merchant.name).join(Merchant, Merchant.id == Item.merchant_id)
    if merchant is not None:
        query = query.where(Merchant.name == merchant)
    return {row[0]: (row[1], row[2]) for row in session.execute(query)}


def merchant_items_of(session: Session, item_ids: Iterable[int]) -> dict[int, str]:
    """item id -> merchant name, for those of ``item_ids`` that exist."""
    query = (
        select(Item.id, Merchant.name)
        .join(Merchant, Merchant.id == Item.merchant_id)
        .where(Item.id.in_(list(item_ids)))
    )
    return {row[0]: row[1] for row in session.execute(query)}
