"""Read-only catalog queries for the parts above it: the search table, training pairs, ranker labels, groups.

Plain functions over a Session, returning plain rows: the parts above never write ``select`` themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, case, func, select
from sqlalchemy.orm import Session

from recsys.catalog.models import CHOICE_EVENTS, Interaction, Item, ItemImage, Review


def first_images(session: Session) -> dict[str, tuple[int, str]]:
    """external id -> (item id, stored path of its first image), for items with an image."""
    rows = session.execute(
        select(Item.external_id, Item.id, ItemImage.path)
        .join(ItemImage, ItemImage.item_id == Item.id)
        .where(ItemImage.position == 0)
    ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def items_with_first_image(session: Session) -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(external id, title, category, attributes, first image path) of every item with an image, by item id."""
    rows = session.execute(
        select(Item.external_id, Item.title, Item.category, Item.attributes, ItemImage.path)
        .join(ItemImage, ItemImage.item_id == Item.id)
        .where(ItemImage.position == 0)
        .order_by(Item.id)
    ).all()
    return [(r[0], r[1], r[2], r[3] or {}, r[4]) for r in rows]


def choices_with_first_image(session: Session) -> list[tuple[str, str, str | None]]:
    """(external id, query, first image path or None) of every logged choice (click, cart, purchase), in order."""
    rows = session.execute(
        select(Item.external_id, Interaction.query, ItemImage.path)
        .join(Interaction, Interaction.item_id == Item.id)
        .outerjoin(ItemImage, (ItemImage.item_id == Item.id) & (ItemImage.position == 0))
        .where(Interaction.event.in_(CHOICE_EVENTS))
        .order_by(Interaction.id)
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def query_events(session: Session) -> list[tuple[str, str, int, str, int | None]]:
    """(session id, query, item id, event, position) of every event that came from a text query."""
    rows = session.execute(
        select(
            Interaction.session_id, Interaction.query, Interaction.item_id, Interaction.event, Interaction.position
        ).where(Interaction.query != "")
    ).all()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def external_ids(session: Session) -> dict[int, str]:
    """item id -> the merchant's own id."""
    return dict(session.execute(select(Item.id, Item.external_id)).all())


def item_types(session: Session) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(external id, category path, attributes) of every item: what a long-tail group is derived from."""
    return [
        (r[0], r[1], r[2] or {})
        for r in session.execute(select(Item.external_id, Item.category, Item.attributes)).all()
    ]


# --- the search table: one pass of aggregate queries -------------------------------------------------------


def item_rows(session: Session) -> list[Row]:
    """Rows with id, title, description, category, attributes, price, created_at of every item, by id."""
    return list(
        session.execute(
            select(
                Item.id, Item.title, Item.description, Item.category, Item.attributes, Item.price, Item.created_at
            ).order_by(Item.id)
        ).all()
    )


def review_totals(session: Session) -> dict[int, tuple[int, int]]:
    """item id -> (sum of ratings, number of reviews), for items with reviews."""
    rows = session.execute(select(Review.item_id, func.sum(Review.rating), func.count()).group_by(Review.item_id))
    return {row[0]: (row[1], row[2]) for row in rows}


def event_totals(session: Session) -> dict[int, tuple[int, int]]:
    """item id -> (impressions, other events: clicks, carts, purchases), for items with events."""
    rows = session.execute(
        select(
            Interaction.item_id,
            func.sum(case((Interaction.event == "impression", 1), else_=0)),
            func.sum(case((Interaction.event != "impression", 1), else_=0)),
        ).group_by(Interaction.item_id)
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def items_with_images(session: Session) -> set[int]:
    return set(session.scalars(select(ItemImage.item_id).distinct()))
