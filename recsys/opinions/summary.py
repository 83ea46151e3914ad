"""Per-item opinion summary: per aspect counts, raw and shrunk shares, the verdict, and real quotes.

Numbers shown to people are raw counts ("12 of 15 mentions"); the words ("mostly positive") come from the shrunk
share, so one unlucky review does not make an item "mostly negative". Quotes are sentences of the item's own
reviews, verbatim, chosen by how clearly they say the aspect and the polarity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from recsys.opinions.aspects import Aspect
from recsys.opinions.mentions import Mention
from recsys.opinions.shrinkage import AspectPrior, shrunk_share

MOSTLY_POSITIVE, MOSTLY_NEGATIVE = 0.65, 0.35  # on the shrunk share of positive among polar mentions
QUOTE_CHARS = 160  # longer sentences are still quotable, but a short clear one is preferred
QUOTES = 2


@dataclass(frozen=True)
class Quote:
    sentence: str
    polarity: str
    review_id: int


@dataclass(frozen=True)
class AspectSummary:
    key: str
    label: str
    mentions: int
    positive: int
    negative: int
    neutral: int
    share_positive: float | None  # raw, over polar mentions; None without any
    share_negative: float | None
    shrunk_positive: float  # toward the catalog prior
    verdict: str  # e.g. "runs small"; "" when the aspect has no verdicts or none was said
    verdict_count: int
    headline: str  # "Fit: runs small (12 of 15 mentions)"
    quotes: list[Quote] = field(default_factory=list)


@dataclass(frozen=True)
class ItemOpinions:
    item_id: int
    reviews: int  # reviews analysed
    aspects: list[AspectSummary]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _quote_score(m: Mention) -> float:
    clarity = m.confidence * abs(m.p_positive - 0.5) * 2
    return clarity * (1.0 if len(m.sentence) <= QUOTE_CHARS else 0.5)


def pick_quotes(mentions: Sequence[Mention], lead: str, verdict_key: str = "") -> list[Quote]:
    """Up to two quotes: the clearest of the leading side (the verdict, else the majority polarity), then the
    clearest of the other side when there is one (a shopper sees the dissent), else the next of the lead."""

    def leads(m: Mention) -> bool:
        return m.verdict == verdict_key if verdict_key else m.polarity == lead

    ranked = sorted(mentions, key=_quote_score, reverse=True)
    first = [m for m in ranked if leads(m)]
    other = [m for m in ranked if not leads(m) and m.polarity != "neutral" and m.polarity != lead]
    chosen: list[Mention] = first[:1] + other[:1]
    for m in first[1:] + ranked:
        if len(chosen) >= QUOTES:
            break
        if all(m.sentence != c.sentence for c in chosen):
            chosen.append(m)
    unique: dict[str, Mention] = {}
    for m in chosen:
        unique.setdefault(m.sentence, m)
    return [Quote(m.sentence, m.polarity, m.review_id) for m in unique.values()][:QUOTES]


def _words(shrunk: float) -> tuple[str, str]:
    """(headline words, leading polarity)."""
    if shrunk >= MOSTLY_POSITIVE:
        return "mostly positive", "positive"
    if shrunk <= MOSTLY_NEGATIVE:
        return "mostly negative", "negative"
    return "mixed", "positive" if shrunk >= 0.5 else "negative"


def summarise_aspect(aspect: Aspect, mentions: Sequence[Mention], prior: AspectPrior) -> AspectSummary:
    counts = Counter(m.polarity for m in mentions)
    pos, neg, neu = counts["positive"], counts["negative"], counts["neutral"]
    polar = pos + neg
    shrunk = float(shrunk_share(pos, neg, prior))
    words, lead = _words(shrunk)
    verdicts = Counter(m.verdict for m in mentions if m.verdict)
    labels = {v.key: v.label for v in aspect.verdicts}
    verdict_key, verdict_count = verdicts.most_common(1)[0] if verdicts else ("", 0)
    n = len(mentions)
    if verdict_key:
        headline = f"{aspect.label}: {labels.get(verdict_key, verdict_key)} ({verdict_count} of {n} mentions)"
    else:
        shown = pos if lead == "positive" else neg
        headline = f"{aspect.label}: {words} ({shown} of {n} mentions {lead})"
    return AspectSummary(
        aspect.key,
        aspect.label,
        n,
        pos,
        neg,
        neu,
        pos / polar if polar else None,
        neg / polar if polar else None,
        shrunk,
        labels.get(verdict_key, verdict_key),
        verdict_count,
        headline,
        pick_quotes(mentions, lead, verdict_key),
    )


def summarise_item(
    item_id: int,
    reviews: int,
    mentions: Sequence[Mention],
    aspects: Sequence[Aspect],
    priors: dict[str, AspectPrior],
) -> ItemOpinions:
    """Aspects with at least one mention, most-mentioned first."""
    by_aspect: dict[str, list[Mention]] = {}
    for m in mentions:
        by_aspect.setdefault(m.aspect, []).append(m)
    summaries = [
        summarise_aspect(a, by_aspect[a.key], priors.get(a.key, AspectPrior(0.5, 1.0)))
        for a in aspects
        if by_aspect.get(a.key)
    ]
    summaries.sort(key=lambda s: -s.mentions)
    return ItemOpinions(item_id, reviews, summaries)
