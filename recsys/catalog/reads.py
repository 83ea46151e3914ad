"""Read-only catalog queries for the parts above it: the search table, training pairs, ranker labels, groups.

Plain functions over a Session, returning plain rows: the parts above never write ``select`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, case, func, or_, select
from sqlalchemy.orm import Session

from recsys.catalog.models import CHOICE_EVENTS, Interaction, Item, ItemImage, Review

ID_BATCH = 10_000  # ids per IN (...) list


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


def item_rows(session: Session, ids: Iterable[int] | None = None, written_after: int | None = None) -> list[Row]:
    """Rows with id, title, description, category, attributes, price, created_at, by id: of every item, of ``ids``
    only (those still in the catalog), or of the items written at a generation after ``written_after``
    (``Item.generation``)."""
    query = select(
        Item.id, Item.title, Item.description, Item.category, Item.attributes, Item.price, Item.created_at
    ).order_by(Item.id)
    if written_after is not None:
        query = query.where(Item.generation > written_after)
    if ids is None:
        return list(session.execute(query).all())
    wanted = sorted({int(i) for i in ids})
    rows: list[Row] = []
    for start in range(0, len(wanted), ID_BATCH):  # bound the statement's parameters
        rows += session.execute(query.where(Item.id.in_(wanted[start : start + ID_BATCH]))).all()
    return rows


def item_ids(session: Session) -> list[int]:
    """Every item's id, ascending."""
    return list(session.scalars(select(Item.id).order_by(Item.id)))


def item_labels(session: Session, batch: int = 10_000) -> Iterable[Row]:
    """id, title, category, attributes of every item, by id, streamed ``batch`` rows at a time (no descriptions: a
    reader over a million items holds one batch of rows, not all of them)."""
    query = select(Item.id, Item.title, Item.category, Item.attributes).order_by(Item.id)
    for rows in session.execute(query.execution_options(yield_per=batch)).partitions():
        yield from rows


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


# --- behaviour: what recommenders read ------------------------------------------------------------------


class UserEvent(NamedTuple):
    item_id: int
    event: str
    created_at: datetime
    order_id: str | None


def user_events(
    session: Session, user_or_session_id: str, limit: int = 100, *, events: Iterable[str] | None = None
) -> list[UserEvent]:
    """The newest ``limit`` events of one shopper, newest first: those logged under the id as a user (a logged-in
    account's history, imported orders) or as a browser session (an anonymous shopper); ``events`` keeps only
    those types (e.g. ``INTEREST_EVENTS``)."""
    if not user_or_session_id:
        return []
    query = select(Interaction.item_id, Interaction.event, Interaction.created_at, Interaction.order_id).where(
        or_(Interaction.user_id == user_or_session_id, Interaction.session_id == user_or_session_id)
    )
    if events is not None:
        query = query.where(Interaction.event.in_(list(events)))
    rows = session.execute(query.order_by(Interaction.created_at.desc(), Interaction.id.desc()).limit(limit))
    return [UserEvent(r[0], r[1], r[2], r[3]) for r in rows]


def baskets(session: Session, since: datetime | None = None) -> dict[str, list[int]]:
    """order id -> the item ids bought in it (in logged order, each once), for every purchase with an order id
    logged at or after ``since``; orders in the order they were logged."""
    query = select(Interaction.order_id, Interaction.item_id).where(
        Interaction.event == "purchase", Interaction.order_id.is_not(None)
    )
    if since is not None:
        query = query.where(Interaction.created_at >= since)
    out: dict[str, list[int]] = {}
    for order_id, item_id in session.execute(query.order_by(Interaction.id)):
        items = out.setdefault(str(order_id), [])
        if item_id not in items:
            items.append(item_id)
    return out


def basket_owners(session: Session, since: datetime | None = None) -> dict[str, tuple[str, datetime]]:
    """order id -> (the shopper who placed it: user id, else session id; when it was placed), for the same orders
    as ``baskets``: what a per-user split (held-out users, next basket) needs beside the baskets."""
    query = select(
        Interaction.order_id, Interaction.user_id, Interaction.session_id, func.min(Interaction.created_at)
    ).where(Interaction.event == "purchase", Interaction.order_id.is_not(None))
    if since is not None:
        query = query.where(Interaction.created_at >= since)
    rows = session.execute(query.group_by(Interaction.order_id, Interaction.user_id, Interaction.session_id))
    return {str(r[0]): (r[1] or r[2], r[3]) for r in rows}
