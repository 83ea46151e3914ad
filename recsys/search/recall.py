"""Recall: the one code path from a search request to the ``CandidateList`` the ranker sees.

Search and ranker training both go through ``recall``, so a trained model is fed exactly the features it is served.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from recsys.encoders import FUSED, TEXT_CLIP, MultimodalEncoder, route_similarities
from recsys.index.arrays import IdSet
from recsys.index.backend import IndexBackend
from recsys.index.hybrid import reciprocal_rank_fusion
from recsys.ranking.features import CandidateList, ItemStats, RouteScores
from recsys.ranking.features.opinions import OpinionSource, opinion_inputs
from recsys.search import query_text, query_understanding
from recsys.search.dense import dense_search
from recsys.search.filters import SearchFilters, allowed_id_set
from recsys.search.index_mirror import payload_filter
from recsys.search.multilingual_recall import MultilingualRecall
from recsys.search.query_parts import DEFAULT_PART_WEIGHTS
from recsys.search.query_text import QueryText
from recsys.search.state import ServingState
from recsys.search.types import PriceUnknown, SearchRequest


@dataclass(frozen=True)
class SearchSnapshot:
    """One published state with the encoder that made its vectors: what recall needs, read once.

    Ranker training and benchmarks recall through it, so they see exactly what a search sees. ``opinions``: the
    review opinion index read once when the snapshot was taken (None: none built yet; the columns are NaN).
    ``multilingual``: the encoder version's multilingual route (None: no head; ``multilingual_recall``)."""

    state: ServingState
    encoder: MultimodalEncoder
    recall_k: int
    opinions: OpinionSource | None = None
    multilingual: MultilingualRecall | None = None

    def recall(self, request: SearchRequest) -> Recalled:
        return recall(self.state, self.encoder, request, self.recall_k, self.opinions, self.multilingual)


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
    multilingual: MultilingualRecall | None = None,
) -> Recalled:
    """Hybrid recall (FAISS over fused vectors + BM25, fused by RRF; the text part on ``state.backend`` when the
    settings name an index engine) under the request's filters.

    A text + photo query recalls each part on its own (the text part: its fused vector and BM25; the photo part:
    its fused vector) and merges the two by RRF weighted with the query part weights, so the photo brings its own
    candidates instead of being diluted in one vector (``query_parts`` then ranks the parts). The text searched is
    ``query_text.prepare``'s: trimmed when too long, typos corrected. ``opinions`` fills the review-opinion
    columns (NaN without it). ``multilingual`` (a version with a multilingual head): a non-English text's USE
    vector in the joint space is one more ranking in the text part's RRF (the text as typed, before the
    understood English words are appended), and with ``multilingual.features`` the query's text_clip row for the
    similarity columns; None, or an English text: recall as without it."""
    prepared = query_text.prepare(request.text, state.lexical, request.correct_typos)
    typed = prepared.searched
    ignored = request.ignore_understood
    understanding = query_understanding.read(prepared.searched, state.table, request.understand, ignored)
    prepared = prepared.expanded(understanding.expansion)  # a Chinese query's English words, for BM25
    text = prepared.searched
    query = encoder.encode_query(text or None, request.image)
    joint = multilingual.joint_row(typed) if multilingual is not None else None
    extra = None
    scored = query  # the query rows the ranker's similarity columns are computed from
    if joint is not None and multilingual is not None:
        extra = (multilingual.fused_row(encoder, joint), multilingual.weight)
        if multilingual.features and TEXT_CLIP in query:
            scored = {**query, TEXT_CLIP: joint}  # MiniLM's joint row of a non-English text is noise
    cand_ids = _candidate_ids(state, encoder, query, text, request, request.filters, recall_k, extra)
    rows = state.table.rows(cand_ids)
    item_routes = {r: state.routes.rows(r, rows) for r in state.routes} if len(rows) else {}
    sims = route_similarities(scored, item_routes)
    candidates = candidate_list(state, text, rows, sims, request.clicked_item_ids, opinions, item_routes.get(FUSED))
    # No candidate left (the filters hid them all): nothing to judge the words by, and the filters are why.
    understood = not text or not len(rows) or query_text.understood(candidates.scores.bm25_title, sims.get("text_bert"))
    price_unknown = None
    if request.filters.min_price is not None or request.filters.max_price is not None:
        # The same query without the price bounds (its vectors reused): how many of those candidates are unpriced.
        unbounded = replace(request.filters, min_price=None, max_price=None)
        wider = _candidate_ids(state, encoder, query, text, request, unbounded, recall_k, extra)
        unpriced = int(np.isnan(state.table.price[state.table.rows(wider)]).sum())
        price_unknown = PriceUnknown(unpriced, len(wider))
    return Recalled(cand_ids, rows, sims, candidates, prepared, understood, price_unknown, understanding)


def _allowed(state: ServingState, request: SearchRequest, filters: SearchFilters) -> IdSet | None:
    """The ids the filters let through, as one ``IdSet`` both indexes read (None: no restriction)."""
    allowed = allowed_id_set(state.table, filters)  # kept with the table: a repeated filter is the same object
    if not request.exclude_item_ids:
        return allowed
    every = IdSet(state.table.ids) if allowed is None else allowed
    return every.without(np.asarray(request.exclude_item_ids, np.int64))


def _candidate_ids(
    state: ServingState,
    encoder: MultimodalEncoder,
    query: dict[str, np.ndarray],
    text: str,
    request: SearchRequest,
    filters: SearchFilters,
    recall_k: int,
    multilingual: tuple[np.ndarray, float] | None = None,
) -> np.ndarray:
    """The text part by hybrid recall (its vector and BM25 by RRF), the photo part by its vector, merged by RRF.

    With an index engine on the state (``state.backend``, RECSYS_INDEX_BACKEND=qdrant) the text part's hybrid runs
    there, under the same filters as payload filters; the photo part stays on the embedded FAISS index.
    ``multilingual``: (the route's fused query row, its RRF weight), searched on the embedded index and fused into
    the text part beside its fused vector and BM25 (beside the engine's hybrid list, weighted 2: it holds those two)."""
    allowed = _allowed(state, request, filters)
    text_part, photo_part = encoder.part_vectors(query)
    both = text_part is not None and photo_part is not None
    vectors = np.concatenate([text_part, photo_part]) if both else query[FUSED]  # one part: the query's own vector
    route_row, route_weight = multilingual if multilingual is not None and text_part is not None else (None, 0.0)
    rows = [] if state.backend is not None and text else [vectors[:1]]  # the text part (or the one part)
    rows += [vectors[1:]] if both else []
    rows += [route_row] if route_row is not None else []
    if rows:
        scores, ids = dense_search(state, np.concatenate(rows), recall_k, allowed)
    route: list[tuple[np.ndarray, np.ndarray]] = []
    if route_row is not None:  # its row is the last one searched
        route, ids, scores = [(ids[-1], scores[-1])], ids[:-1], scores[:-1]
    if state.backend is not None and text:
        fused = _backend_hybrid(state.backend, state, vectors[0], text, request, filters, recall_k)
        if route:
            fused = reciprocal_rank_fusion([fused, *route], weights=(2.0, route_weight))
    else:
        text_rankings = [(ids[0], scores[0])]
        if text:
            lex_scores, lex_ids = state.lexical.search(text, recall_k, allowed)
            text_rankings.append((lex_ids, lex_scores))
        text_weights = [1.0] * len(text_rankings) + [route_weight] * len(route)
        fused = reciprocal_rank_fusion(text_rankings + route, weights=text_weights)
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
    fused_rows: np.ndarray | None = None,
) -> CandidateList:
    """The ranker's input for the table rows ``rows``: texts, route scores, item stats (review opinions from
    ``opinions``, the live index the service holds), session vectors. ``fused_rows``: the rows' fused vectors when
    the caller has derived them already."""
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
        item_vectors=state.routes.rows(FUSED, rows) if fused_rows is None else fused_rows,
        clicked_vectors=state.routes.rows(FUSED, t.rows(clicked)) if len(clicked) else None,
    )
