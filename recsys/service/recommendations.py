"""The recommendation part of the service: fits the served recommenders over the catalog's events, keeps versions,
refits in the background, and answers the shopper's lists.

- A fit reads every item and interest event, fits ``served.fit_served`` and saves it as a version under
  ``models/recommenders`` (parent = the version served before, data fingerprint, counts, seconds); the newest
  ``recommender_versions_kept`` stay. A start loads the newest version when its fingerprint still matches the data.
- ``note_event`` counts events (and each committed item change); after ``refit_every_events`` a refit runs on its
  own thread, one at a time, and the new model is served by one reference assignment: a request reads
  ``self._served`` once and uses that model throughout, so it never mixes two versions. Search never waits on it.
- After a background refit, the refit thread replays the served recommenders on the app's own log
  (``evaluation.replay``: fit before a time split, predict what shoppers did after it) once the log has
  ``replay.MIN_EVENTS`` events and has grown since the last replay; the report is stored for the Evaluation tab.
- Personal lists read the shopper's newest events from the database on each request, so they move with what the
  shopper just did, before any refit.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from recsys import registry
from recsys.catalog import event_reads, reads
from recsys.catalog.models import INTEREST_EVENTS
from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.evaluation import replay, run_history
from recsys.evaluation import report as reports
from recsys.recommend import lists, served_store
from recsys.recommend.served import (
    ATTRIBUTE_KEYS,
    EVENT_WEIGHTS,
    EventRow,
    ItemRow,
    ServedModel,
    fit_served,
    shopper_keys,
)
from recsys.service.jobs import BackgroundJob

log = logging.getLogger(__name__)
REGISTRY_KIND = served_store.REGISTRY_KIND


@dataclass(frozen=True)
class Recommended:
    item_id: int
    reason: str


@dataclass(frozen=True)
class Served:
    model: ServedModel
    version: str


USED_KEYS = frozenset(k for keys in ATTRIBUTE_KEYS.values() for k in keys)


def _used(attributes: dict | None) -> dict:
    """The attributes the served model reads (``served.item_attributes``), values interned: a million items' full
    attribute dicts were most of what a fit held."""
    return {k: sys.intern(v) if isinstance(v, str) else v for k, v in (attributes or {}).items() if k in USED_KEYS}


class Recommendations:
    def __init__(self, store: CatalogStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.root = settings.models_dir / "recommenders"
        self._served: Served | None = None
        self._lock = threading.Lock()
        self._new_events = 0
        self.job: BackgroundJob | None = None
        # A new item must reach the lists (the cold start most of all) without waiting for shoppers' events.
        store.on_items_changed(lambda kind, item_ids: self.note_event())

    # --- fitting and versions ---------------------------------------------------------------------

    @property
    def version(self) -> str | None:
        served = self._served
        return None if served is None else served.version

    def versions(self) -> list[dict]:
        serving = self.version
        return [{**row, "serving": row["version"] == serving} for row in served_store.list_versions(self.root)]

    def _data(self) -> tuple[list[ItemRow], list[EventRow]]:
        with self.store.sessions() as session:
            items = [
                ItemRow(
                    r.id, r.title, r.category or "", str((r.attributes or {}).get("brand") or ""), _used(r.attributes)
                )
                for r in reads.item_labels(session)
            ]
            logged = event_reads.interest_events(session)
        keys = shopper_keys([e.user_id for e in logged], [e.session_id for e in logged])
        events = [EventRow(key, e.session_id, e.item_id, e.event, e.order_id or "") for key, e in zip(keys, logged)]
        return items, events

    def fit_now(self) -> str:
        """Fit on the data as it is now, save it as a new version and serve it; returns the version."""
        start = time.perf_counter()
        with self._lock:  # what happens from here on counts toward the next refit
            self._new_events = 0
        items, events = self._data()
        fingerprint = served_store.fingerprint(items, events)
        served = self._served
        newest = served_store.list_versions(self.root)
        config = self._fit_config()
        same = newest and newest[0]["fingerprint"] == fingerprint and newest[0].get("config") == config
        if served is None and same:
            try:  # a restart over unchanged data serves what it saved
                self._served = Served(served_store.load_served(self.root, newest[0]["version"]), newest[0]["version"])
                return newest[0]["version"]
            except (OSError, ValueError, KeyError, TypeError):
                log.exception("recommender version %s does not load; refitting", newest[0]["version"])
        model = fit_served(
            items,
            events,
            ranker=config["ranker"],
            shopper_events=config["shopper_events"],
            novelty_price=config["novelty_price"],
            k=config["for_you_items"],
        )
        created = datetime.now(UTC)
        version = f"rec-{created:%Y%m%d-%H%M%S-%f}-{fingerprint[:8]}"
        meta = {
            "version": version,
            "parent": served.version if served is not None else None,
            "fingerprint": fingerprint,
            "config": config,  # a restart with other settings refits even over the same data
            "created_at": created.isoformat(),
            "fit_seconds": round(time.perf_counter() - start, 3),
            "shoppers": len(model.shoppers),
            "tail_items": int(model.is_tail.sum()),
            "ranker": model.ranker is not None,  # False: too few shoppers with two orders, the hand blend serves
            "allocated_shoppers": len(model.allocation),
            "allocation_swaps": sum(len(swap.added) for swap in model.allocation.values()),
        }
        try:
            served_store.save_served(self.root, model, meta)
            self._register(meta, model)
            served_store.prune(self.root, max(1, self.settings.recommender_versions_kept))
            self._prune_registry()
        except OSError:  # a full disk must not stop serving the new fit
            log.exception("recommender version %s was not saved", version)
        self._served = Served(model, version)  # the swap: one reference assignment
        log.info("recommenders %s serving (%d items, %d events)", version, model.n_items, model.events)
        return version

    def _fit_config(self) -> dict:
        """The settings a fit depends on beyond the data."""
        return {
            "ranker": self.settings.recommend_ranker,
            "shopper_events": self.settings.shopper_events,
            "novelty_price": self.settings.novelty_price,
            "for_you_items": max(1, self.settings.for_you_items),
        }

    def _register(self, meta: dict, model: ServedModel) -> None:
        """The version's registry record, like an encoder's: parent, data fingerprint, metrics; the arrays stay in
        ``models/recommenders/<version>`` (``files``)."""
        config = {
            "kind": REGISTRY_KIND,
            "created": meta["created_at"],
            "parent": meta["parent"],
            "data_fingerprint": meta["fingerprint"],
            "files": f"recommenders/{meta['version']}",
            "metrics": {
                "items": model.n_items,
                "events": model.events,
                "shoppers": meta["shoppers"],
                "tail_items": meta["tail_items"],
                "fit_seconds": meta["fit_seconds"],
                "ranker": meta["ranker"],
                "allocation_swaps": meta["allocation_swaps"],
            },
        }
        registry.save_version(self.settings, meta["version"], config, lambda folder: None)

    def _prune_registry(self) -> None:
        """Registry records of recommender versions no longer on disk go with them."""
        kept = {row["version"] for row in served_store.list_versions(self.root)}
        for version in registry.list_versions(self.settings, kind=REGISTRY_KIND):
            if version not in kept:
                registry.remove_version(self.settings, version)

    def refit(self, replay: bool = True) -> BackgroundJob:
        """Fit on a background thread; the running job when one is. ``replay``: also replay the event log when due
        (the start-up leaves that to the next refit, so search is not kept waiting on a measurement)."""
        with self._lock:
            if self.job is not None and self.job.running:
                return self.job
            self._new_events = 0
            self.job = BackgroundJob("recommender-refit")
        return self.job.start(lambda job: self._refit_and_replay(replay))

    def _refit_and_replay(self, replay: bool) -> str:
        version = self.fit_now()
        stored = self.replay_if_due(version) if replay else None
        return f"serving {version}" + (f"; replay stored: {stored}" if stored else "")

    def replay_if_due(self, version: str) -> str | None:
        """Replay the log (on the calling thread: the refit's, never a request's) when it has enough events and has
        grown since the last replay; returns the stored report's name, None when not due or not measurable."""
        served = self._served
        events = served.model.events if served is not None else 0
        if events < replay.MIN_EVENTS or not run_history.replay_due(self.settings, events):
            return None
        try:
            report = replay.replay_store(
                self.store,
                self.settings.data_dir,
                tail_share=self.settings.tail_share,
                shopper_events=self.settings.shopper_events,
                ranker=self.settings.recommend_ranker,
                novelty_price=self.settings.novelty_price,
            )
            report["model_version"] = version  # served when the log was replayed (the replay fits its own model)
            return reports.store(report, self.settings, label=run_history.APP_REPLAY_LABEL).name
        except ValueError as exc:  # e.g. every event at one time, or nobody came back after T: nothing to store
            log.info("replay of the event log skipped: %s", exc)
        except Exception:  # a failed measurement must not fail the refit that is already serving
            log.exception("replay of the event log failed")
        return None

    def note_event(self, count: int = 1) -> None:
        """Count new interest events; enough of them since the last refit start one."""
        every = self.settings.refit_every_events
        with self._lock:
            self._new_events += count
            due = every > 0 and self._new_events >= every
        if due:
            self.refit()

    # --- the lists -----------------------------------------------------------------------------------

    def _model(self) -> ServedModel | None:
        served = self._served
        return None if served is None else served.model

    def _named(self, model: ServedModel, picks: list[lists.Pick]) -> list[Recommended]:
        return [Recommended(int(model.item_ids[p.index]), p.reason) for p in picks]

    def shopper_weights(self, model: ServedModel, shopper_ids: list[str]) -> dict[int, float]:
        """index -> weight of the items in the shoppers' newest events, oldest first (the newest last)."""
        weights: dict[int, float] = {}
        with self.store.sessions() as session:
            rows = [
                r
                for sid in dict.fromkeys(shopper_ids)
                if sid
                for r in reversed(reads.user_events(session, sid, self.settings.shopper_events, events=INTEREST_EVENTS))
            ]
        # A signed-in shopper's events match both ids (account and browser): each counts once. Events at one time
        # (an imported order's lines) keep their logged order, as the refit reads them, so both rank alike.
        rows = sorted(dict.fromkeys(rows), key=lambda r: r.created_at)
        for row in rows:
            index = model.index_of([row.item_id])
            if index:
                weights[index[0]] = weights.pop(index[0], 0.0) + EVENT_WEIGHTS[row.event]
        return weights

    def for_you(self, shopper_ids: list[str], k: int) -> list[Recommended]:
        """Personal when the shoppers have events, else the diverse cold-start list seeded by the first id."""
        model = self._model()
        if model is None or not model.n_items:
            return []
        k = max(1, min(k, model.n_items))
        weights = self.shopper_weights(model, shopper_ids)
        if not weights:
            seed = next((s for s in shopper_ids if s), "anonymous")
            return self._named(model, lists.cold_start(model, k, self.settings.tail_share, seed))
        # The exposure ledger counts a shopper once, however often they reload, and never against their own list.
        shopper = "\x1f".join(s for s in shopper_ids if s)
        swap = model.swap_for(shopper_ids)
        return self._named(model, lists.for_shopper(model, weights, k, self.settings.tail_share, shopper, swap))

    def item_lists(self, item_id: int, k: int, shown: Sequence[int] = ()) -> dict[str, list[Recommended]]:
        """{"bought_together": ..., "also_viewed": ...} for one item ({} before the first fit or for a new item).
        Each item appears on the page once: "bought together" leaves out the items ``shown`` (ids the page lists
        already, its similar items), and "also viewed" those and what "bought together" holds. Without co-purchases
        or co-views both fall back to look-alikes by attribute, which would otherwise fill them with the same items."""
        model = self._model()
        index = model.index_of([item_id]) if model is not None else []
        if model is None or not index:
            return {}
        k = max(1, min(k, model.n_items - 1))
        share = self.settings.tail_share
        taken = model.index_of(list(shown))
        bought = lists.neighbours(model, index[0], k, "bought", share, taken)
        viewed = lists.neighbours(model, index[0], k, "viewed", share, [*taken, *(p.index for p in bought)])
        return {"bought_together": self._named(model, bought), "also_viewed": self._named(model, viewed)}

    def complete_basket(self, item_ids: list[int], k: int) -> list[Recommended]:
        model = self._model()
        basket = model.index_of(dict.fromkeys(item_ids)) if model is not None else []
        if model is None or not basket:
            return []
        k = max(1, min(k, model.n_items - len(basket)))
        return self._named(model, lists.basket_completion(model, basket, k, self.settings.tail_share))
