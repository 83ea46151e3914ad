"""What a search is asked and what it answers: plain data shared by the engine, the service, the UI and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from recsys.search.filters import Facets, SearchFilters


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
class SearchResponse:
    hits: list[SearchHit]
    facets: Facets
    candidates: int
    model_version: str
    ranker_version: str
    latency_ms: float
