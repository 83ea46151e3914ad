"""SQLAlchemy 2.x typed ORM models of the catalog.

Portable types only (no SQLite- or PostgreSQL-specific columns) so one schema runs on any SQLAlchemy URL.
Schema changes go through Alembic migrations in ``migrations/``; these classes are their source of truth.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# "impression": shown in a list; "view": its item page opened; "click": a search result clicked; "cart": added to
# the cart; "purchase": bought, with the basket's id in ``Interaction.order_id``.
EVENT_TYPES = ("impression", "click", "cart", "purchase", "view")
CHOICE_EVENTS = ("click", "cart", "purchase")  # the shopper chose the item from a result list (a ranker positive)
INTEREST_EVENTS = ("view", "click", "cart", "purchase")  # the shopper showed interest (what recommenders learn from)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON}


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    items: Mapped[list[Item]] = relationship(back_populates="merchant")


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        # external_id makes bulk imports idempotent per merchant.
        UniqueConstraint("merchant_id", "external_id", name="uq_items_merchant_external"),
        Index("ix_items_category", "category"),
        # An id is never handed out twice, even after the newest item is deleted (migration 0003); PostgreSQL's
        # serial sequences already behave so.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str] = mapped_column(String(200), default="")
    # Category path, levels joined by " > " (e.g. "Apparel > Topwear > Shirts").
    category: Mapped[str] = mapped_column(String(500), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # The ``EmbeddingGeneration`` of the transaction that last wrote the row (``repository.stamp_item_generation``;
    # NULL: not written since migration 0006), so a saved copy of the item table and its BM25 index re-reads only
    # the items written after it (search/table_snapshot.py).
    generation: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)

    merchant: Mapped[Merchant] = relationship(back_populates="items")
    images: Mapped[list[ItemImage]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemImage.position"
    )
    reviews: Mapped[list[Review]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Review.id"
    )


class ItemImage(Base):
    __tablename__ = "item_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(200))  # relative to the image store root
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    item: Mapped[Item] = relationship(back_populates="images")


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Where the review came from: "merchant", or "demo:similar-garment" for real reviews of a similar garment.
    source: Mapped[str] = mapped_column(String(100), default="merchant")
    author: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the account that posted it, if any

    item: Mapped[Item] = relationship(back_populates="reviews")


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_item_event", "item_id", "event"),
        # A shopper's history, newest first ("for you"), and the baskets by order id (idempotent re-import).
        Index("ix_interactions_user_time", "user_id", "created_at"),
        Index("ix_interactions_order", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100), default="")
    session_id: Mapped[str] = mapped_column(String(100), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(20))  # one of EVENT_TYPES
    query: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The basket a purchase belongs to (every item bought together shares it); None for other events.
    order_id: Mapped[str | None] = mapped_column(String(100), nullable=True)


class QueryLog(Base):
    __tablename__ = "query_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(100), index=True)
    query: Mapped[str] = mapped_column(Text, default="")
    has_image: Mapped[bool] = mapped_column(default=False)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ItemEmbedding(Base):
    """One vector per (item, model version, route) so a restart re-encodes nothing."""

    __tablename__ = "item_embeddings"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(100), primary_key=True)
    route: Mapped[str] = mapped_column(String(50), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32 little-endian
    # The ``EmbeddingGeneration`` of the transaction that wrote the row (NULL: written before migration 0005), so a
    # saved copy of the route matrices finds the rows written after it without reading the others.
    generation: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_item_embeddings_generation", "model_version", "route", "generation"),)


class EmbeddingGeneration(Base):
    """One row, counting the transactions that wrote item vectors (``repository.save_embeddings``) or item rows
    (``repository.stamp_item_generation``, since migration 0006; the name is older than that use).

    The increment takes a row lock (PostgreSQL) or the write lock (SQLite) held until commit, so generations commit
    in order: a reader that sees generation g also sees every row written at g or before."""

    __tablename__ = "embedding_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    # Made once per database: a copy saved from another catalog (the data dir kept, the database replaced or moved
    # to PostgreSQL) is told apart even when its ids and generations happen to match.
    catalog_id: Mapped[str] = mapped_column(String(32))
