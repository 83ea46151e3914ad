"""Recall: the one code path from a search request to the ``CandidateList`` the ranker sees.

Search and ranker training both go through ``recall``, so a trained model is fed exactly the features it is served.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from recsys.encoders import FUSED, MultimodalEncoder, route_similarities
from recsys.index.backend import IndexBackend
from recsys.index.hybrid import reciprocal_rank_fusion
from recsys.ranking.features import CandidateList, ItemStats, RouteScores
from recsys.ranking.features.opinions import OpinionSource, opinion_inputs
from recsys.search import query_text, query_understanding
from recsys.search.filters import SearchFilters, allowed_ids
from recsys.search.index_mirror import payload_filter
from recsys.search.query_parts import DEFAULT_PART_WEIGHTS
from recsys.search.query_text import QueryText
from recsys.search.state import ServingState
from recsys.search.types import PriceUnknown, SearchRequest


@dataclass(frozen=True)
class SearchSnapshot:
    """One published state with the encoder that made its vectors: what recall needs, read once.

    Ranker training and benchmarks recall through it, so they see exactly what a search sees. ``opinions``: the
    review opinion index read once when the snapshot was taken (None: none built yet; the columns are NaN)."""

    state: ServingState
    encoder: MultimodalEncoder
    recall_k: int
    opinions: OpinionSource | None = None

    def recall(self, request: SearchRequest) -> Recalled:
        return recall(self.state, self.encoder, request, self.recall_k, self.opinions)


@dataclass(frozen=True)
class Recalled:
    item_ids: np.ndarray  # candidates in recall order (reciprocal rank fusion of the routes)
    rows: np.ndarray  # their rows in state.table
    similarities: dict[str, np.ndarray]  # route similarity name -> [n]
    candidates: CandidateList
    query: QueryText = QueryText("", "", "")  # the text as typed and as searched (trimmed, typos corrected)
    understood: bool = True  # False: a text that no item contains and none is close to (query_text.understood)
    price_unknown: PriceUnknown | None = None  # set when a price bound is on
    understanding: query_understanding.Understanding = query_understanding.Understanding()  # colour, type, ...


def recall(
    state: ServingState,
    encoder: MultimodalEncoder,
    request: SearchRequest,
    recall_k: int,
    opinions: OpinionSource | None = None,
) -> Recalled:
    """Hybrid recall (FAISS over fused vectors + BM25, fused by RRF; the text part on ``state.backend`` when the
    settings name an index engine) under the request's filters.

    A text + photo query recalls each part on its own (the text part: its fused vector and BM25; the photo part:
    its fused vector) and merges the two by RRF weighted with the query part weights, so the photo brings its own
    candidates instead of being diluted in one vector (``query_parts`` then ranks the parts). The text searched is
    ``query_text.prepare``'s: trimmed when too long, typos corrected. ``opinions`` fills the review-opinion
    columns (NaN without it)."""
    prepared = query_text.prepare(request.text, state.lexical, request.correct_typos)
    ignored = request.ignore_understood
    understanding = query_understanding.read(prepared.searched, state.table, request.understand, ignored)
    prepared = prepared.expanded(understanding.expansion)  # a Chinese query's English words, for BM25
    text = prepared.searched
    query = encoder.encode_query(text or None, request.image)
    cand_ids = _candidate_ids(state, encoder, query, text, request, request.filters, recall_k)
    rows = state.table.rows(cand_ids)
    sims = route_similarities(query, {r: m[rows] for r, m in state.routes.items()}) if len(rows) else {}
    candidates = candidate_list(state, text, rows, sims, request.clicked_item_ids, opinions)
    # No candidate left (the filters hid them all): nothing to judge the words by, and the filters are why.
    understood = not text or not len(rows) or query_text.understood(candidates.scores.bm25_title, sims.get("text_bert"))
    price_unknown = None
    if request.filters.min_price is not None or request.filters.max_price is not None:
        # The same query without the price bounds (its vectors reused): how many of those candidates are unpriced.
        unbounded = replace(request.filters, min_price=None, max_price=None)
        wider = _candidate_ids(state, encoder, query, text, request, unbounded, recall_k)
        unpriced = int(np.isnan(state.table.price[state.table.rows(wider)]).sum())
        price_unknown = PriceUnknown(unpriced, len(wider))
    return Recalled(cand_ids, rows, sims, candidates, prepared, understood, price_unknown, understanding)


def _allowed(state: ServingState, request: SearchRequest, filters: SearchFilters) -> np.ndarray | None:
    allowed = allowed_ids(state.table, filters)
    if request.exclude_item_ids:
        base = state.table.ids if allowed is None else allowed
        allowed = np.setdiff1d(base, np.asarray(request.exclude_item_ids, np.int64))
    return allowed


def _candidate_ids(
    state: ServingState,
    encoder: MultimodalEncoder,
    query: dict[str, np.ndarray],
    text: str,
    request: SearchRequest,
    filters: SearchFilters,
    recall_k: int,
) -> np.ndarray:
    """The text part by hybrid recall (its vector and BM25 by RRF), the photo part by its vector, merged by RRF.

    With an index engine on the state (``state.backend``, RECSYS_INDEX_BACKEND=qdrant) the text part's hybrid runs
    there, under the same filters as payload filters; the photo part stays on the embedded FAISS index."""
    allowed = _allowed(state, request, filters)
    text_part, photo_part = encoder.part_vectors(query)
    both = text_part is not None and photo_part is not None
    vectors = np.concatenate([text_part, photo_part]) if both else query[FUSED]  # one part: the query's own vector
    if state.backend is not None and text:
        fused = _backend_hybrid(state.backend, state, vectors[0], text, request, filters, recall_k)
        if both:
            scores, ids = state.vectors.search(vectors[1:], recall_k, allowed)
    else:
        scores, ids = state.vectors.search(vectors, recall_k, allowed)
        text_rankings = [(ids[0], scores[0])]
        if text:
            lex_scores, lex_ids = state.lexical.search(text, recall_k, allowed)
            text_rankings.append((lex_ids, lex_scores))
        fused = reciprocal_rank_fusion(text_rankings)
    if both:
        weights = (DEFAULT_PART_WEIGHTS.text, DEFAULT_PART_WEIGHTS.photo)
        fused = reciprocal_rank_fusion([fused, (ids[-1], scores[-1])], weights=weights)
    return np.asarray(fused[0][:recall_k], dtype=np.int64)


def _backend_hybrid(
    backend: IndexBackend,
    state: ServingState,
    vector: np.ndarray,
    text: str,
    request: SearchRequest,
    filters: SearchFilters,
    recall_k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The engine's hybrid top ``recall_k`` among the state's items, excluded ones removed after (asked for that
    many more so the list stays full)."""
    exclude = np.asarray(request.exclude_item_ids, np.int64)
    ids, fused = backend.hybrid(vector, text, recall_k + exclude.size, payload_filter(filters))
    # The engine is live: an edit being applied may already be in it but not in this state's table.
    keep = np.isin(ids, state.table.ids) & ~np.isin(ids, exclude)
    return ids[keep][:recall_k], fused[keep][:recall_k]


def candidate_list(
    state: ServingState,
    text: str,
    rows: np.ndarray,
    sims: dict[str, np.ndarray],
    clicked_item_ids: tuple[int, ...] = (),
    opinions: OpinionSource | None = None,
) -> CandidateList:
    """The ranker's input for the table rows ``rows``: texts, route scores, item stats (review opinions from
    ``opinions``, the live index the service holds), session vectors."""
    t = state.table
    opinion_shares, opinion_mentions = opinion_inputs(opinions, t.ids[rows])
    clicked = np.asarray(clicked_item_ids, np.int64)
    clicked = clicked[np.isin(clicked, t.ids)]  # items deleted since the click drop out; order and repeats kept
    return CandidateList(
        query=text,
        titles=[t.titles[r] for r in rows],
        descriptions=[t.descriptions[r] for r in rows],
        scores=RouteScores(
            bm25_title=state.lexical.score(text, t.ids[rows]) if text and len(rows) else None,
            cos_text_title=sims.get("text_bert"),
            cos_text_desc=sims.get("text_reviews"),
            cos_text_image=sims.get("text_image"),
            cos_image_image=sims.get("image_image"),
        ),
        items=ItemStats(
            rating_sum=t.rating_sum[rows],
            rating_count=t.rating_count[rows],
            price=t.price[rows],
            age_days=t.age_days[rows],
            impressions=t.impressions[rows],
            clicks=t.clicks[rows],
            opinion_shares=opinion_shares,
            opinion_mentions=opinion_mentions,
        ),
        item_vectors=state.routes[FUSED][rows],
        clicked_vectors=state.routes[FUSED][t.rows(clicked)] if len(clicked) else None,
    )
