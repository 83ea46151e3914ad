"""SearchEngine: hybrid recall (FAISS + BM25), filters and facets, ranking, logging, and live index updates.

It composes the catalog, the encoder, the indexes and the ranker; it never imports the UI. Heavy work (encoding
new items, rebuilding) runs on one background worker, and searches read an immutable ``ServingState``.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from recsys.catalog import repository as repo
from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.encoders import FUSED, MultimodalEncoder
from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.vector import VectorIndex
from recsys.progress import Progress
from recsys.ranking.features import Priors
from recsys.ranking.features.opinions import OpinionSource
from recsys.search import exposure
from recsys.search.dense import dense_search
from recsys.search.filters import Facets, facet_counts
from recsys.search.heap import trim_heap
from recsys.search.index_mirror import with_backend
from recsys.search.indexing import encode_and_store, missing_item_ids
from recsys.search.multilingual_recall import MultilingualRecall, MultilingualRoutes
from recsys.search.partial import keyword_state, partial_state
from recsys.search.query_understanding_boost import rank_understood
from recsys.search.rank import RankingStep
from recsys.search.recall import SearchSnapshot, recall
from recsys.search.route_matrices import RouteMatrices
from recsys.search.route_snapshot import Generation, RouteRead, current_generation, read_routes, save_routes
from recsys.search.saved_vectors import load_vectors
from recsys.search.segment_merge import SegmentMerger
from recsys.search.state import ServingState, StateHolder, serving_state
from recsys.search.table import ItemTable
from recsys.search.table_snapshot import TableRead, read_table, save_table
from recsys.search.types import NotReady, QueryReading, SearchHit, SearchRequest, SearchResponse
from recsys.search.updates import coalesce, lexical_index, updated_state

log = logging.getLogger(__name__)
BULK_CACHE_MIN_ITEMS = 200  # from this many items to encode, read tower outputs from the feature caches
KEPT_ENCODERS = 3  # encoders kept by version: a search that read an older state still finds its query encoder


class SearchEngine:
    def __init__(
        self,
        catalog: CatalogStore,
        encoder: MultimodalEncoder,
        settings: Settings | None = None,
        opinions: Callable[[], OpinionSource | None] | None = None,
    ) -> None:
        self.catalog = catalog
        # The review opinion index the service holds, asked for on each search (None until it is built): the
        # ranker's opinion columns (ranking/features/opinions.py); without it they are NaN.
        self.opinions = opinions or (lambda: None)
        self.encoder = encoder
        self._encoders: dict[str, MultimodalEncoder] = {encoder.version: encoder}
        self.settings = settings or catalog.settings
        self.holder = StateHolder()
        # Live edits land as delta segments; this folds them into a new base in the background (segment_merge).
        merge_at = self.settings.segment_merge_items
        self._merger = SegmentMerger(self.holder, self.submit, merge_at, self.settings.index_dir / "vectors")
        self.ranking = RankingStep(self.settings.models_dir)
        # Non-English queries' USE route into the joint space, per encoder version that has a fitted head.
        self.multilingual = MultilingualRoutes(self.settings)
        self._jobs: queue.Queue = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._worker = threading.Thread(target=self._work, name="taillift-indexer", daemon=True)
        self._worker.start()
        self._changes: list[tuple[str, list[int]]] = []  # catalog edits not yet applied to the index
        self._changes_lock = threading.Lock()
        self._flush_queued = False
        # While a switch builds the next model's state, the edits applied to the served state are kept here
        # too, to be replayed onto the new state before it is published (None: no switch in progress).
        self._replay: list[tuple[str, list[int]]] | None = None
        self._partial = False  # the served state is a first start's keyword-only or partly encoded one
        catalog.on_items_changed(self._queue_change)

    # --- building ----------------------------------------------------------------------------------

    def build(self, progress: Progress | None = None, progressive: bool = False) -> ServingState:
        """Encode items lacking vectors for this model version, then build (or load) the indexes and publish.

        The same path as a switch: edits that arrive while the first index is built (a merchant saving during a
        first start) are replayed onto it before it is published, not dropped. ``progressive`` (the app's first
        start): while nothing complete is served, publish the items encoded so far every
        ``progressive_publish_items``."""
        return self.switch_encoder(self.encoder, progress, progressive)

    def switch_encoder(
        self, encoder: MultimodalEncoder, progress: Progress | None = None, progressive: bool = False
    ) -> ServingState:
        """Build the whole state for ``encoder`` while the old one serves, then swap both in.

        The build (minutes: encoding the catalog) runs on the caller's thread, so live edits keep reaching the
        served state meanwhile; they are also kept, and replayed onto the new state on the worker just before
        it is published. Searches pick the query encoder by the state they read (``encoder_for``), so the one
        ``holder.publish`` is the switch: no search mixes two models. One switch at a time (the service's).
        """
        # Begun on the worker, after the flushes already queued: an edit they apply before the build reads the
        # catalog is in the build; every later one is in the replay.
        self.call(self._begin_replay)
        try:
            state, read, table_read = self._build_state(encoder, progress, progressive)
            self.multilingual.get(encoder)  # its multilingual route, if it has a head: loaded before it serves
            published = self.call(self._publish_switch, encoder, state)
            if read.worth_saving:  # after the publish, so no search waits for the write (seconds at 1M)
                self.submit(save_routes, self._routes_dir, encoder.version, state.table.ids, read)
            if table_read.worth_saving and table_read.lexical is not None:
                self.submit(save_table, self._table_dir, table_read)
            return published
        finally:
            with self._changes_lock:
                self._replay = None

    def _begin_replay(self) -> None:
        with self._changes_lock:
            self._replay = []

    def _publish_switch(self, encoder: MultimodalEncoder, state: ServingState) -> ServingState:
        """On the worker: the edits made during the build, applied to the new state; then publish it."""
        with self._changes_lock:
            replay, self._replay = self._replay or [], None
        for kind, item_ids in coalesce(replay):
            state = updated_state(self.catalog, self.settings, state, encoder, kind, item_ids)
        self._remember(encoder)
        state.lexical.vocabulary()  # built here, on the worker, so no search pays for it (typo correction)
        self.holder.publish(state)
        self._partial = False
        self.encoder = encoder  # live updates (on this same worker) encode with it from now on
        trim_heap()  # the build's row objects are garbage now: give their pages back (RSS), not only to Python
        log.info("now serving model %s (%d items; %d edits replayed)", encoder.version, len(state.table), len(replay))
        return state

    def snapshot(self) -> SearchSnapshot:
        """The published state with its query encoder (``NotReady`` before the first build)."""
        state = self.holder.get()
        if state is None:
            raise NotReady("the search index is still being built")
        encoder = self.encoder_for(state)
        route = self.multilingual.get(encoder)
        weight = self.settings.multilingual_route_weight
        multilingual = MultilingualRecall(route, weight) if route is not None and weight > 0 else None
        return SearchSnapshot(state, encoder, self.settings.recall_k, self.opinions(), multilingual)

    def encoder_for(self, state: ServingState) -> MultimodalEncoder:
        """The encoder that made ``state``'s vectors (queries must be encoded by the same model)."""
        return self._encoders.get(state.model_version, self.encoder)

    def publish_keywords(self) -> None:
        """First start, before the heads are trained: serve keyword search over the whole catalog meanwhile.

        Only when nothing is served yet; the build that follows replaces it (``coverage`` says which is served)."""
        if self.holder.get() is not None:
            return
        read = self._read_table(current_generation(self.catalog))
        table, encoder = read.table, self.encoder
        lexical = read.lexical or lexical_index(table, self.settings.segmented_index)
        factory = self.settings.index_factory
        state = keyword_state(
            encoder.version, table, lexical, encoder.dims, factory, encoder.weights, self.settings.nprobe
        )
        self.call(self._publish_partial, encoder, state)
        log.info("serving keyword search over %d items while the models are trained", len(table))

    def _build_state(
        self, encoder: MultimodalEncoder, progress: Progress | None, progressive: bool
    ) -> tuple[ServingState, RouteRead, TableRead]:
        version = encoder.version
        missing = missing_item_ids(self.catalog, version)
        if missing:
            log.info("encoding %d items for model %s", len(missing), version)
            # Many items: tower outputs through the disk caches training filled (a heads-only switch then
            # needs only the heads); a few: not worth loading the caches.
            features = (
                encoder.bulk_features(self.settings.data_dir / "features")
                if len(missing) >= BULK_CACHE_MIN_ITEMS
                else None
            )
            step = self._publish_every(len(missing)) if progressive else len(missing)
            for start in range(0, len(missing), step):
                encode_and_store(
                    self.catalog,
                    encoder,
                    missing[start : start + step],
                    batch_size=self.settings.encode_batch_size,
                    progress=None if progress is None else _offset(progress, start, len(missing)),
                    features=features,
                )
                if start + step < len(missing):
                    self._publish_encoded_so_far(encoder)
        table_read, read = self._read_catalog(encoder)
        table, routes = table_read.table, read.routes
        lexical = table_read.lexical or lexical_index(table, self.settings.segmented_index)
        vectors = self._vector_index(version, table, routes, read.generation)
        state = serving_state(version, vectors, lexical, table, routes, generation=read.generation)
        if isinstance(lexical, SegmentedBM25):
            table_read = dataclasses.replace(table_read, lexical=lexical)  # what a save writes
        # RECSYS_INDEX_BACKEND=qdrant: its items mirrored there too
        return with_backend(state, self.settings), read, table_read

    def _publish_every(self, missing: int) -> int:
        """Items encoded between partial publishes: only while nothing better is served (a first start); a
        switch keeps serving the complete old state until the new one is whole."""
        every = self.settings.progressive_publish_items
        first_build = self.holder.get() is None or self._partial
        return every if every > 0 and first_build else missing

    def _publish_encoded_so_far(self, encoder: MultimodalEncoder) -> None:
        table_read, read = self._read_catalog(encoder)
        table, routes = table_read.table, read.routes
        lexical = table_read.lexical or lexical_index(table, self.settings.segmented_index)
        state = partial_state(
            encoder.version, table, lexical, routes, self.settings.index_factory, self.settings.nprobe
        )
        self.call(self._publish_partial, encoder, state)
        log.info("serving %d of %d items by vector while the rest are encoded", len(state.vectors), len(table))

    def _publish_partial(self, encoder: MultimodalEncoder, state: ServingState) -> None:
        """On the worker: a still-building state, with the edits made so far in this build applied; they stay in
        the replay, so the complete state gets them too."""
        with self._changes_lock:
            replay = list(self._replay or [])
        for kind, item_ids in coalesce(replay):
            state = updated_state(self.catalog, self.settings, state, encoder, kind, item_ids)
        self._remember(encoder)
        self.holder.publish(state)
        self._partial = True

    def _remember(self, encoder: MultimodalEncoder) -> None:
        """Keep ``encoder`` findable by version before a state of it is published; one assignment of a new dict,
        newest last, keeping the one now served (the newest of the older ones)."""
        older = [v for v in self._encoders if v != encoder.version][-(KEPT_ENCODERS - 1) :]
        self._encoders = {**{v: self._encoders[v] for v in older}, encoder.version: encoder}

    @property
    def _routes_dir(self) -> Path:
        return self.settings.index_dir / "routes"

    @property
    def _table_dir(self) -> Path:
        return self.settings.index_dir / "table"

    def _read_catalog(self, encoder: MultimodalEncoder) -> tuple[TableRead, RouteRead]:
        """The item table and the stored routes of ``encoder``'s version aligned with it (the fused one is derived
        from them): from the copies a complete build saved plus the rows written since, else from the catalog."""
        generation = current_generation(self.catalog)  # before the table: every row of its items is this or newer
        table_read = self._read_table(generation)
        table = table_read.table
        read = read_routes(
            self.catalog, encoder.version, table.ids, encoder.dims, encoder.weights, generation, self._routes_dir
        )
        return table_read, read

    def _read_table(self, generation: Generation) -> TableRead:
        """The saved copy serves only the segmented index (its BM25 base is a segment)."""
        directory = self._table_dir if self.settings.segmented_index else None
        return read_table(self.catalog, generation, directory)

    def _vector_index(
        self, version: str, table: ItemTable, routes: RouteMatrices, generation: Generation
    ) -> VectorIndex:
        directory, factory = self.settings.index_dir / "vectors", self.settings.index_factory
        loaded = load_vectors(self.catalog, directory, version, factory, table, routes, generation)
        if loaded is not None:
            loaded.nprobe = self.settings.nprobe  # a search knob, not part of what was saved: today's setting
            return loaded
        index = VectorIndex(routes.dim(FUSED), factory, nprobe=self.settings.nprobe)
        if len(table):
            index.build(table.ids, routes[FUSED])
        manifest = {"model_version": version, "count": len(table), "factory": factory, **generation.manifest()}
        index.save(directory, {**manifest, "dim": routes.dim(FUSED)})
        return index

    # --- live updates --------------------------------------------------------------------------

    def _queue_change(self, kind: str, item_ids: Sequence[int]) -> None:
        """Collect an edit; one flush job applies every edit collected until it runs.

        Each application re-reads the item table and rebuilds BM25 (O(catalog)), so a burst of edits (a bulk
        import commits batch after batch, a merchant saves several items) costs one rebuild, not one each.
        """
        with self._changes_lock:
            self._changes.append((kind, [int(i) for i in item_ids]))
            if self._flush_queued:
                return
            self._flush_queued = True
        self.submit(self._flush_changes)

    def _flush_changes(self) -> None:
        with self._changes_lock:
            changes, self._changes = self._changes, []
            self._flush_queued = False
            if self._replay is not None:
                self._replay.extend(changes)
        for kind, item_ids in coalesce(changes):
            self._apply_change(kind, item_ids)

    def _apply_change(self, kind: str, item_ids: list[int]) -> None:
        old = self.holder.get()
        if old is None:
            return
        # The served state's own encoder: during a first start that is a partial state's, not yet self.encoder.
        new = updated_state(self.catalog, self.settings, old, self.encoder_for(old), kind, item_ids)
        new.lexical.vocabulary()
        self.holder.publish(new)
        self._merger.maybe_merge()
        log.info("index updated: %s %d item(s); %d items served", kind, len(item_ids), len(new.table))

    def submit(self, job: Callable, *args) -> None:
        """Run ``job(*args)`` on the background worker, after the work already queued."""
        with self._idle:
            self._pending += 1
        self._jobs.put((job, args))

    def call(self, job: Callable, *args):
        """Run ``job(*args)`` on the worker after the queued work, wait, and return its result or raise its error.

        Called from the worker itself it runs inline (waiting on its own queue would deadlock).
        """
        if threading.current_thread() is self._worker:
            return job(*args)
        done = threading.Event()
        outcome: dict = {}

        def run() -> None:
            try:
                outcome["result"] = job(*args)
            except BaseException as exc:  # handed to the caller, who re-raises it
                outcome["error"] = exc
            finally:
                done.set()

        self.submit(run)
        done.wait()
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")

    def close(self, timeout: float = 600.0) -> None:
        """Let queued jobs finish, then stop the worker thread."""
        self._jobs.put(None)
        self._worker.join(timeout)

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, args = item
            try:
                job(*args)
            except Exception:
                log.exception("background job %s failed", getattr(job, "__name__", job))
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    @property
    def priors(self) -> Priors | None:
        """Catalog-wide priors of the published state (rating mean, CTR prior, popularity buckets)."""
        state = self.holder.get()
        return None if state is None else state.priors

    def reload_ranker(self) -> str:
        """Serve the newest catalog ranker version (after training) without a restart; returns its name."""
        self.ranking = RankingStep(self.settings.models_dir)
        return self.ranking.version

    def coverage(self) -> dict:
        """What searches are served from now: items, how many have vectors, and whether the build is complete."""
        state = self.holder.get()
        if state is None:
            return {"searchable": False}
        return {
            "searchable": True,
            "items": len(state.table),
            "items_with_vectors": len(state.vectors),
            "model_version": state.model_version,
            "complete": not self._partial,
        }

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until queued background work (index updates, logs) is done; for tests and the CLI."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    # --- search ----------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        state = self.holder.get()
        if state is None:
            raise NotReady("the search index is still being built")
        text = (request.text or "").strip()
        ranking = self.ranking  # read once: reload_ranker may swap it meanwhile
        encoder = self.encoder_for(state)
        multilingual = self.multilingual.recall_for(encoder, request.text)  # None for English text, or no head
        got = recall(state, encoder, request, self.settings.recall_k, self.opinions(), multilingual)
        # How the text was read (trimmed, corrected, understood) and what a price bound hides: said even with no hits.
        reading = QueryReading(got.query if got.query.original else None, got.understood, got.price_unknown)
        if not len(got.item_ids):
            latency = (time.perf_counter() - started) * 1000
            understood = list(got.understanding.items)
            return SearchResponse([], Facets({}), 0, state.model_version, ranking.version, latency, reading, understood)
        # Understood colour/gender/type/price: a soft boost on the ranker's order (query_understanding_boost).
        boost = self.settings.understanding_boost
        share = self.settings.tail_share  # the tail's share of the page, as for recommendations (search/exposure)
        ranked = rank_understood(ranking, got, state.table, state.priors, exposure.depth_for(request.k, share), boost)
        ranked = exposure.rerank_page(ranked, exposure.table_tail(state.table)[got.rows], request.k, share)
        ranked = ranking.explain(ranked, got.candidates)  # only the served page: the costly part
        hits = [
            SearchHit(
                int(got.item_ids[pos]),
                rank,
                float(ranked.scores[pos]),
                {name: float(values[pos]) for name, values in got.similarities.items()},
                ranked.explanations[int(pos)],
                ranked.matched[int(pos)],
            )
            for rank, pos in enumerate(ranked.order, start=1)
        ]
        latency = (time.perf_counter() - started) * 1000
        response = SearchResponse(
            hits,
            facet_counts(state.table, got.rows),
            len(got.item_ids),
            state.model_version,
            ranking.version,
            latency,
            reading,
            list(got.understanding.items),
        )
        if request.log:
            self.submit(self._log_search, request, text, hits, latency)
        return response

    def similar(self, item_id: int, k: int = 12, session_id: str = "") -> SearchResponse:
        """More like this: the item's own fused vector as the query, the item itself excluded."""
        started = time.perf_counter()
        state = self.holder.get()
        if state is None:
            raise NotReady("the search index is still being built")
        row = state.table.rows(np.asarray([item_id]))[0]
        if row >= len(state.table) or state.table.ids[row] != item_id:
            raise KeyError(f"item {item_id} is not indexed")
        allowed = np.setdiff1d(state.table.ids, [item_id])
        scores, ids = dense_search(state, state.routes.rows(FUSED, np.asarray([row])), k, allowed)
        keep = ids[0] >= 0
        hits = [
            SearchHit(int(i), n, float(s), {"fused": float(s)}, "similar look and description", "similar")
            for n, (i, s) in enumerate(zip(ids[0][keep], scores[0][keep]), start=1)
        ]
        return SearchResponse(
            hits, Facets({}), len(hits), state.model_version, "similarity", (time.perf_counter() - started) * 1000
        )

    # --- behaviour logs -----------------------------------------------------------------------------

    def _log_search(self, request: SearchRequest, text: str, hits: list[SearchHit], latency: float) -> None:
        session_id = _clean_log_text(request.session_id, 100) or "anonymous"
        text = _clean_log_text(text, 2000)
        with self.catalog.sessions.begin() as session:
            repo.log_query(
                session,
                session_id=session_id,
                query=text,
                has_image=request.image is not None,
                filters={k: v for k, v in request.filters.__dict__.items() if v not in ((), None)},
                result_count=len(hits),
                latency_ms=latency,
            )
            repo.log_events(
                session,
                (
                    {
                        "session_id": session_id,
                        "item_id": h.item_id,
                        "event": "impression",
                        "query": text,
                        "position": h.rank,
                    }
                    for h in hits
                ),
            )

    def log_event(
        self, session_id: str, item_id: int, event: str, query: str = "", position: int | None = None
    ) -> None:
        with self.catalog.sessions.begin() as session:
            repo.log_events(
                session,
                [
                    {
                        "session_id": _clean_log_text(session_id, 100) or "anonymous",
                        "item_id": int(item_id),
                        "event": event,
                        "query": _clean_log_text(query, 2000),
                        "position": position,
                    }
                ],
            )


def _offset(progress: Progress, start: int, total: int) -> Progress:
    """A chunk's progress as progress over the whole build."""
    return lambda done, _, stage: progress(start + done, total, stage)


def _clean_log_text(text: str | None, limit: int) -> str:
    # PostgreSQL text refuses NUL bytes, and columns have lengths: a query must never fail its own logging.
    return (text or "").replace("\x00", "")[:limit]
