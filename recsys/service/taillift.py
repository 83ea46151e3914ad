"""The whole facade: the catalog plus search, similar items, behaviour logs, encoder versions and the ranker.

``start`` runs once at start-up (seed the demo, load or train the encoder, build the index, queue the ranker);
until the index is built, search methods raise ``NotReady``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from recsys import registry
from recsys.accounts.principal import SYSTEM, Principal
from recsys.catalog import repository as repo
from recsys.config import Settings
from recsys.encoders import IMAGE, MultimodalEncoder
from recsys.encoders.multilingual_head_store import load_head
from recsys.encoders.text import pick_device
from recsys.evaluation.encoder_comparison import Comparison, EvaluationSize, compare_versions
from recsys.progress import Progress
from recsys.search.engine import SearchEngine
from recsys.search.recall import SearchSnapshot
from recsys.search.types import NotReady, SearchRequest, SearchResponse
from recsys.service.catalog import CatalogService
from recsys.service.errors import NotAllowed, NotFound
from recsys.service.jobs import BackgroundJob
from recsys.service.limits import HourlyLimit
from recsys.service.opinions import Opinions
from recsys.service.permissions import require
from recsys.service.recommendations import Recommendations, Recommended
from recsys.service.startup import StartupStatus
from recsys.splits import is_holdout
from recsys.training.catalog_ranker import FIRST_START_GRID, external_ids, train_catalog_ranker
from recsys.training.encoder_runs import EncoderRun, create_encoder_for, encoder_versions
from recsys.training.first_start import load_encoder
from recsys.training.multilingual_head_fit import CatalogHeadFit, fit_catalog_head
from recsys.training.pair_sources import read_judgments
from recsys.training.run_options import EncoderRunOptions

log = logging.getLogger(__name__)


class TailLiftService(CatalogService):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.engine: SearchEngine | None = None
        self.ranker_job: BackgroundJob | None = None
        self.multilingual_job: BackgroundJob | None = None  # fitting the served version's multilingual head
        self._switching = threading.Lock()
        self._jobs_lock = threading.Lock()
        self.encoder_run: EncoderRun | None = None  # the one encoder run at a time
        self.training_runs = HourlyLimit("training runs", self.settings.training_runs_per_hour)
        self.startup = StartupStatus()
        self.recommendations = Recommendations(self.store, self.settings)
        self.opinions = Opinions(self.store, self.settings)  # review opinions per aspect (recsys/opinions)

    # --- start-up ---------------------------------------------------------------------------------

    def start(self) -> None:
        """What the app does once at start-up: seed the demo catalog on first start, load the models (training
        the heads first if needed), build the index, and queue ranker training when none is trained yet.
        ``startup`` says how far it got (the page shows it while this runs in ``start_in_background``)."""
        try:
            self.seed_demo(self.startup.progress)
            # Fitted before the index, not beside it: "For you" is still ready long before search, and two builds
            # interleaving their short-lived objects left ~0.6 GB pinned in the heap at a million items
            # (docs/scale.md, "The app under 6 GB at 1M").
            self.recommendations.refit(replay=False).wait()
            self.load_models(self.startup.progress, train_missing_ranker=True, progressive=True)
            # The first text query traces MiniLM's one-text forward (~0.4 s): here, not in a shopper's first search.
            self._engine().encoder.encode_query("warm up")
            # after the index: the first build keeps the CPU; item pages say "still being analysed" meanwhile
            self.opinions.start_in_background()
            self.fit_multilingual_head_in_background()
        except Exception as exc:
            log.exception("start-up failed")
            self.startup.finish(f"{type(exc).__name__}: {exc}")
            raise
        self.startup.finish()

    def start_in_background(self) -> threading.Thread:
        """``start`` on its own thread, so the page is up at once: browsing works meanwhile, search once the index
        is built (``NotReady`` until then)."""
        thread = threading.Thread(target=self._start_quietly, name="taillift-startup", daemon=True)
        thread.start()
        return thread

    def _start_quietly(self) -> None:
        try:
            self.start()
        except Exception:  # start() logged it and startup says so on the page; the catalog keeps being served
            return

    def status(self) -> dict[str, Any]:
        """Where the start-up is, what search is served from, and the ranker job: the ``/status`` endpoint."""
        job = self.ranker_job
        return {
            "startup": self.startup.as_dict(),
            "search": self.engine.coverage() if self.engine is not None else {"searchable": False},
            "ranker": None if job is None else {"status": job.status, "message": job.message},
        }

    def load_models(
        self, progress: Progress | None = None, train_missing_ranker: bool = False, progressive: bool = False
    ) -> None:
        """Load the encoder (training its heads first if needed) and build the index.

        ``train_missing_ranker`` (the app sets it) starts catalog-ranker training in the background when no
        ranker exists yet; short-lived processes (CLI, benchmarks) leave it off. ``progressive`` (the app's start):
        search is served while the models train (by keywords) and while items are encoded (those done so far).
        """
        if progress is not None:
            progress(0, 0, "loading the models")

        serving: SearchEngine | None = None  # the keyword-serving engine, when one was started

        def serve_keywords(untrained: MultimodalEncoder) -> None:
            nonlocal serving
            serving = self.engine = SearchEngine(self.store, untrained, self.settings, self.opinions.current_index)
            with self._switching:
                serving.publish_keywords()

        encoder = load_encoder(self.settings, self.store, progress, serve_keywords if progressive else None)
        engine = self.engine = serving or SearchEngine(self.store, encoder, self.settings, self.opinions.current_index)
        with self._switching:  # an admin's switch cannot interleave with the first build
            engine.switch_encoder(encoder, progress, progressive)
        if (
            train_missing_ranker
            and self.settings.auto_train_ranker
            and self.engine.ranking.version == "fallback"
            and self.stats()["items"] >= self.settings.auto_train_min_items
        ):
            # Searches are served by the fallback order meanwhile; the ranker is swapped in when done.
            log.info("training the catalog ranker in the background (no trained ranker yet)")
            self.retrain_ranker(SYSTEM, grid=FIRST_START_GRID)

    # --- the ranker -------------------------------------------------------------------------------

    def retrain_ranker(self, actor: Principal, **options: Any) -> BackgroundJob:
        """Train the catalog ranker on its own thread and serve it when done; the running job if one is.

        Its own thread, not the index worker's: uploads keep reaching the index during the minutes it takes.
        ``options`` go to ``train_catalog_ranker`` (max_queries, seed, grid, ...).
        """
        require(actor, "retrain ranker")
        engine = self._engine()
        with self._jobs_lock:  # check and start as one step: two clicks start one retrain
            if self.ranker_job is not None and self.ranker_job.running:
                return self.ranker_job
            self.training_runs.spend(actor)
            self.ranker_job = BackgroundJob("ranker-training")

        def work(job: BackgroundJob) -> str:
            job.message = "waiting for the review opinions (the ranker's opinion columns)…"
            snapshot = self.training_snapshot()
            job.message = "training on a snapshot of the index…"
            result, path = train_catalog_ranker(self.store, snapshot, **options)
            name = engine.reload_ranker()
            log.info("catalog ranker %s trained (CV nDCG@10 %.3f); now serving it", path.name, result.best.mean)
            return f"serving {name} (CV nDCG@10 {result.best.mean:.3f}; saved {path.name})"

        return self.ranker_job.start(work)

    def training_snapshot(self) -> SearchSnapshot:
        """The index snapshot a ranker trains on, taken once the review opinions are built: the training lists
        then carry the opinion columns that searches are served with (no train/serve skew)."""
        engine = self._engine()
        self.opinions.built_index()
        return engine.snapshot()

    # --- the multilingual query route (recsys/search/multilingual_recall.py) --------------------------

    def fit_multilingual_head(self, actor: Principal) -> CatalogHeadFit:
        """Fit the serving version's multilingual head on the catalog (item titles and the joint image vectors its
        index holds; held-out items left out) and serve it from the next non-English query."""
        require(actor, "train encoder")
        engine = self._engine()
        snapshot = engine.snapshot()
        version = self.serving_encoder_version()
        if version is None or snapshot.encoder.joint.version != version:
            raise NotReady("no trained encoder version is served yet: a multilingual head is fitted to one")
        table = snapshot.state.table
        keys = external_ids(self.store, table.ids)
        keep = np.flatnonzero([not is_holdout(k) for k in keys])
        titles = [table.titles[r] for r in keep]
        photos = snapshot.state.routes.rows(IMAGE, keep)
        fit = fit_catalog_head(self.settings, version, keys[keep].tolist(), titles, photos)
        engine.multilingual.forget(snapshot.encoder.version)
        log.info("multilingual head for %s fitted (%s); served from the next non-English query", version, fit.metrics)
        return fit

    def fit_multilingual_head_in_background(self) -> BackgroundJob | None:
        """After a version is served (start-up, a switch): fit its multilingual head on its own thread when it has
        none, the catalog is big enough (``auto_train_min_items``, as the ranker's) and
        ``multilingual_head_autofit`` is on; the running job if one is."""
        version = self.serving_encoder_version() if self.engine is not None else None
        settings = self.settings
        if not settings.multilingual_head_autofit or settings.multilingual_route_weight <= 0 or version is None:
            return None
        if load_head(settings, version, settings.multilingual_text_model) is not None:
            return None
        if self.stats()["items"] < settings.auto_train_min_items:
            return None
        with self._jobs_lock:
            if self.multilingual_job is not None and self.multilingual_job.running:
                return self.multilingual_job
            self.multilingual_job = BackgroundJob("multilingual-head")

        def work(job: BackgroundJob) -> str:
            job.message = f"fitting the multilingual head of {version}…"
            fit = self.fit_multilingual_head(SYSTEM)
            return f"multilingual head fitted on {fit.metrics['fit_pairs']} items; saved {fit.folder}"

        return self.multilingual_job.start(work)

    # --- encoder versions: training runs, switch, rollback ------------------------------------------

    def serving_encoder_version(self) -> str | None:
        """The registry version whose vectors are served now (None for untrained heads or open_clip)."""
        version = self._engine().encoder.joint.version
        return version if version in registry.list_versions(self.settings) else None

    def encoder_versions(self) -> list[dict]:
        serving = self.serving_encoder_version() if self.engine is not None else None
        return [{**row, "serving": row["version"] == serving} for row in encoder_versions(self.settings)]

    def start_encoder_run(
        self, actor: Principal, options: EncoderRunOptions, on_done: Callable[[EncoderRun], None] | None = None
    ) -> EncoderRun:
        """Start an ``EncoderRun`` in the background, one at a time; its parent is the version serving now. The
        new version is saved, not served: ``switch_encoder`` serves it."""
        require(actor, "train encoder")
        engine = self._engine()
        with self._jobs_lock:
            if self.encoder_run is not None and self.encoder_run.status in ("pending", "running"):
                raise NotAllowed("not allowed: a training run is already in progress; cancel it or wait for it")
            self.training_runs.spend(actor)
            run = EncoderRun(
                self.store, options, parent=self.serving_encoder_version(), text=engine.encoder.text, on_done=on_done
            )
            self.encoder_run = run.start()
        return run

    def cancel_encoder_run(self, actor: Principal) -> bool:
        """Ask the run in progress to stop after its current epoch; False when none runs."""
        require(actor, "train encoder")
        run = self.encoder_run
        if run is None or run.status != "running":
            return False
        run.cancel()
        return True

    def keep_judgments(self, actor: Principal, uploaded: Path) -> Path:
        """Check an uploaded judgments CSV (query,item_id,relevance) and keep a copy under the data dir, where a
        run's manifest can refer to it. Admins only: nothing is written for anyone else."""
        require(actor, "train encoder")
        settings = self.settings
        size = uploaded.stat().st_size
        if size > settings.max_catalog_bytes:  # refused before reading it into memory
            raise ValueError(f"judgments file is {size:,} bytes; the limit is {settings.max_catalog_bytes:,}")
        data = uploaded.read_bytes()
        read_judgments(data, settings.max_catalog_bytes)  # raises with the reason
        folder = settings.data_dir / "judgments"
        folder.mkdir(parents=True, exist_ok=True)
        kept = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.csv"
        if not kept.exists():
            tmp = kept.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, kept)
        return kept

    def switch_encoder(self, actor: Principal, version: str, progress: Progress | None = None) -> str:
        """Serve encoder ``version``: encode the items it lacks, build its index beside the live one, swap it in
        with one reference assignment (searches meanwhile use the old model), then make it ACTIVE."""
        require(actor, "serve encoder")
        engine = self._engine()
        encoder = create_encoder_for(self.settings, version, text=engine.encoder.text)
        with self._switching:  # one switch at a time; live edits keep reaching the index meanwhile
            engine.switch_encoder(encoder, progress)
            registry.activate(self.settings, version)
        self.fit_multilingual_head_in_background()
        return version

    def rollback(self, actor: Principal, version: str | None = None, progress: Progress | None = None) -> str:
        """Switch back to ``version``, by default to the version before the one serving now."""
        require(actor, "serve encoder")
        if version is None:
            names = [row["version"] for row in reversed(encoder_versions(self.settings))]  # oldest first
            serving = self.serving_encoder_version()
            earlier = names[: names.index(serving)] if serving in names else []
            if not earlier:
                raise NotFound("no earlier encoder version to roll back to")
            version = earlier[-1]
        return self.switch_encoder(actor, version, progress)

    def tower_tuning_available(self) -> bool:
        """Tower runs are offered in the app only on CUDA: on a CPU they take hours for a demo catalog."""
        return pick_device(self.settings.device).type == "cuda"

    def can_evaluate_encoders(self) -> bool:
        """Whether the fashion suite's data (the demo catalog) is here for before/after comparisons."""
        return (self.settings.demo_dir / "styles.csv").exists()

    def compare_encoder(
        self, actor: Principal, run: EncoderRun, size: EvaluationSize, progress: Progress | None = None
    ) -> Comparison:
        """Before/after for a finished run: the fashion suite (held-out items) for its version and its parent."""
        require(actor, "evaluate")
        if run.version is None:
            raise NotFound("the run saved no version to compare")
        settings = self.settings
        return compare_versions(settings.demo_dir, settings, run.version, run.parent, size, progress, run.text)

    # --- search and behaviour -----------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        return self._engine().search(request)

    def similar(self, item_id: int, k: int = 12) -> SearchResponse:
        return self._engine().similar(item_id, k)

    def log_event(
        self, session_id: str, item_id: int, event: str, query: str = "", position: int | None = None
    ) -> None:
        self._engine().log_event(session_id, item_id, event, query, position)
        if event == "click":  # a search click is a choice: it counts towards the recommenders' next refit
            self.recommendations.note_event()

    # --- recommendations (``Recommendations``; never on the search path) -----------------------------------

    RECORDED_EVENTS = ("view", "click", "cart", "purchase")

    def record(self, actor: Principal, session_id: str, item_id: int, event: str, order_id: str | None = None) -> None:
        """Log what a shopper did with an item (a purchase needs the order it belongs to); counts towards a refit."""
        require(actor, "search")
        if event not in self.RECORDED_EVENTS:
            raise ValueError(f"event must be one of {', '.join(self.RECORDED_EVENTS)}, not {event!r}")
        if event == "purchase" and not (order_id or "").strip():
            raise ValueError("a purchase needs its order id")
        if not (session_id or "").strip() and not actor.signed_in:
            raise ValueError("an anonymous shopper needs a session id")
        if int(item_id) not in self.get_items([int(item_id)], with_reviews=False):
            raise NotFound(f"item {item_id} does not exist")
        row = {
            "user_id": (actor.name or "")[:100],
            "session_id": (session_id or "").replace("\x00", "")[:100] or "anonymous",
            "item_id": int(item_id),
            "event": event,
            "order_id": (order_id or "").strip()[:100] if event == "purchase" else None,
        }
        with self.sessions.begin() as session:
            repo.log_events(session, [row])
        self.recommendations.note_event()

    def for_you(self, actor: Principal, session_id: str, k: int = 12) -> list[Recommended]:
        """The shopper's own list: their account's history and this browser's session; a diverse start when new."""
        return self.recommendations.for_you([actor.name or "", session_id or ""], k)

    def item_lists(self, item_id: int, k: int = 8) -> dict[str, list[Recommended]]:
        """{"similar": content neighbours, "bought_together": ..., "also_viewed": ...}, each with reasons; an item
        shows in the first of these lists that holds it, not again in a later one."""
        try:
            hits = self.similar(int(item_id), k).hits
            similar = [Recommended(h.item_id, f"looks alike: {h.explanation}") for h in hits]
        except (NotReady, KeyError):  # before the index is built (or an item it does not hold yet)
            similar = []
        out = dict(self.recommendations.item_lists(int(item_id), k, [r.item_id for r in similar]))
        out["similar"] = similar
        return out

    def complete_basket(self, item_ids: list[int], k: int = 8) -> list[Recommended]:
        return self.recommendations.complete_basket([int(i) for i in item_ids], k)

    def close(self) -> None:
        """Finish queued background work, stop the worker and release database connections."""
        if self.engine is not None:
            self.engine.close()
        super().close()

    def _engine(self) -> SearchEngine:
        if self.engine is None:
            raise NotReady("models are not loaded yet")
        return self.engine
