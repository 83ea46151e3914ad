"""Every interest event in one pass (what a recommender refit reads), beside ``reads.user_events`` for one shopper."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from recsys.catalog.models import INTEREST_EVENTS, Interaction


class LoggedEvent(NamedTuple):
    user_id: str
    session_id: str
    item_id: int
    event: str
    order_id: str | None


def interest_events(session: Session) -> list[LoggedEvent]:
    """(user id, session id, item id, event, order id) of every view, click, cart and purchase, in time order (events
    at one time in logged order: an imported history logged after newer live events still comes first)."""
    rows = session.execute(
        select(
            Interaction.user_id, Interaction.session_id, Interaction.item_id, Interaction.event, Interaction.order_id
        )
        .where(Interaction.event.in_(INTEREST_EVENTS))
        .order_by(Interaction.created_at, Interaction.id)
    )
    return [LoggedEvent(r[0] or "", r[1] or "", r[2], r[3], r[4]) for r in rows]
