"""What a search is asked and what it answers: plain data shared by the engine, the service, the UI and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from recsys.query.understanding import Understood
from recsys.search.filters import Facets, SearchFilters
from recsys.search.query_text import QueryText


class NotReady(RuntimeError):
    """The index is still being built."""


@dataclass(frozen=True)
class SearchRequest:
    text: str = ""
    image: Image.Image | None = None
    filters: SearchFilters = field(default_factory=SearchFilters)
    k: int = 20
    session_id: str = ""
    clicked_item_ids: tuple[int, ...] = ()
    exclude_item_ids: tuple[int, ...] = ()
    log: bool = True
    correct_typos: bool = True  # False: search the words exactly as typed
    understand: bool = True  # read colour, gender, type and price from the text (soft boosts, chips)
    ignore_understood: tuple[str, ...] = ()  # ``Understood.key``s the shopper removed (their chips)


@dataclass(frozen=True)
class SearchHit:
    item_id: int
    rank: int
    score: float
    similarities: dict[str, float]
    explanation: str
    # Which query part it matched: "text", "photo", "both" or "weak" (query_parts); "similar" for more like this.
    matched: str = "text"


@dataclass(frozen=True)
class PriceUnknown:
    """Under a price filter: how many of the candidates the other filters allow have no price (and are hidden)."""

    unpriced: int
    candidates: int


@dataclass(frozen=True)
class QueryReading:
    """How a search read its query, said to the shopper with the results (and when there are none)."""

    query: QueryText | None = None  # the text as typed and as searched (trimmed, typos corrected); None: no text
    understood: bool = True  # False: no item contains the text's words and none is close in meaning
    price_unknown: PriceUnknown | None = None  # under a price bound: the unpriced candidates it hides

    def notices(self) -> list[str]:
        """Plain sentences (no markup), most important last."""
        lines = []
        if self.query is not None and self.query.trimmed:
            lines.append(
                f"Your query was {len(self.query.original):,} characters long: only its first "
                f"{len(self.query.typed)} were searched."
            )
        if self.query is not None and self.query.corrected:
            lines.append(f"Showing results for “{self.query.corrected_text}” (you typed “{self.query.typed}”).")
        if not self.understood:
            lines.append("No item contains these words and none is close in meaning: try other words or a photo.")
        unknown = self.price_unknown
        if unknown is not None and unknown.unpriced:
            lines.append(
                f"{unknown.unpriced} of {unknown.candidates} candidates have no price and are hidden by the price "
                "filter."
            )
        return lines


@dataclass(frozen=True)
class SearchResponse:
    hits: list[SearchHit]
    facets: Facets
    candidates: int
    model_version: str
    ranker_version: str
    latency_ms: float
    reading: QueryReading = field(default_factory=QueryReading)
    understood: list[Understood] = field(default_factory=list)  # what the text was read as (the Search tab's chips)
