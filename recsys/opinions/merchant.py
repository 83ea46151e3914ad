"""The merchant's view over their items' mentions: complaints per aspect, complaints that rose, the sentences.

Plain functions over a list of mentions (the service passes the merchant's own items' mentions only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from recsys.opinions.aspects import Aspect
from recsys.opinions.mentions import Mention


@dataclass(frozen=True)
class AspectComplaints:
    key: str
    label: str
    negative: int
    positive: int
    mentions: int
    items: int  # items with at least one complaint about it
    share_negative: float | None  # over polar mentions


@dataclass(frozen=True)
class RisingComplaint:
    item_id: int
    aspect: str
    recent_negative: int
    recent_mentions: int
    earlier_negative: int
    earlier_mentions: int
    recent_share: float  # complaints / mentions in the recent window
    earlier_share: float  # before it (0 with no earlier mention)


def complaints_by_aspect(mentions: Sequence[Mention], aspects: Sequence[Aspect]) -> list[AspectComplaints]:
    """Aspects with any mention, most complaints first."""
    out = []
    for a in aspects:
        mine = [m for m in mentions if m.aspect == a.key]
        if not mine:
            continue
        neg = sum(m.polarity == "negative" for m in mine)
        pos = sum(m.polarity == "positive" for m in mine)
        items = len({m.item_id for m in mine if m.polarity == "negative"})
        out.append(
            AspectComplaints(a.key, a.label, neg, pos, len(mine), items, neg / (neg + pos) if neg + pos else None)
        )
    return sorted(out, key=lambda r: (-r.negative, -r.mentions))


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)  # SQLite hands back naive UTC times


def rising_complaints(
    mentions: Sequence[Mention], now: datetime, window_days: int, min_recent: int = 2
) -> list[RisingComplaint]:
    """(item, aspect) pairs whose share of complaints in the last ``window_days`` exceeds their share before,
    with at least ``min_recent`` recent complaints; the largest rise first."""
    start = _aware(now) - timedelta(days=window_days)
    tallies: dict[tuple[int, str], list[int]] = {}  # [recent neg, recent all, earlier neg, earlier all]
    for m in mentions:
        t = tallies.setdefault((m.item_id, m.aspect), [0, 0, 0, 0])
        recent = _aware(m.created_at) >= start
        t[0 if recent else 2] += m.polarity == "negative"
        t[1 if recent else 3] += 1
    out = []
    for (item_id, aspect), (rn, ra, en, ea) in tallies.items():
        if rn < min_recent:
            continue
        recent_share, earlier_share = rn / ra, (en / ea if ea else 0.0)
        if recent_share > earlier_share:
            out.append(RisingComplaint(item_id, aspect, rn, ra, en, ea, recent_share, earlier_share))
    return sorted(out, key=lambda r: (-(r.recent_share - r.earlier_share), -r.recent_negative))


def sentences_behind(
    mentions: Sequence[Mention], aspect: str, polarity: str | None = None, item_id: int | None = None
) -> list[Mention]:
    """The mentions a number counts, newest first."""
    chosen = [
        m
        for m in mentions
        if m.aspect == aspect
        and (polarity is None or m.polarity == polarity)
        and (item_id is None or m.item_id == item_id)
    ]
    return sorted(chosen, key=lambda m: _aware(m.created_at), reverse=True)
