"""Encoder training runs on the catalog: long-tail weighting, progress, cancel, and named-version loading.

A run retrains the projection heads (``train_heads``) on the catalog's (text, image) pairs, held-out items
excluded, and saves a new version that records its parent (the version serving when it started) and options,
so a before/after comparison and a rollback always know where a version came from. Nothing is activated here:
``TailLiftService.switch_encoder`` does that, atomically, once the new index is built.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from recsys import registry
from recsys.catalog import reads
from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.encoders.factory import create_encoder
from recsys.encoders.fusion import DEFAULT_WEIGHTS, FusionWeights
from recsys.encoders.multimodal import MultimodalEncoder
from recsys.encoders.text import TextEncoder
from recsys.encoders.tower_path import MODEL_KIND
from recsys.training.heads import (
    TrainingCancelled,
    TrainingPair,
    train_heads,
)
from recsys.training.pair_sources import (
    SourceReport,
    catalog_pairs,
    click_pairs,
    judgment_pairs,
)
from recsys.training.run_options import EncoderRunOptions
from recsys.training.tower_finetune import train_towers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunProgress:
    stage: str  # "image features", "text features", "training heads", "saved", "cancelled", "failed"
    fraction: float
    losses: tuple[float, ...] = ()  # mean loss of each finished epoch
    examples_per_s: float | None = None
    eta_s: float | None = None
    step_losses: tuple[float, ...] = ()  # each batch's loss so far (projection-head runs), for the loss chart
    steps_per_epoch: int = 0


# --- long-tail options ------------------------------------------------------------------------------------


def group_of(category: str | None, attributes: dict | None) -> str:
    """The item's article type (fashion), else the leaf of its category path."""
    article = (attributes or {}).get("articleType")
    if article:
        return str(article)
    return (category or "").split(">")[-1].strip()


def inverse_frequency_weights(groups: Sequence[str], strength: float) -> np.ndarray:
    """Per-pair weights ∝ count(group) ** -strength, normalised to mean 1 (rare types count more)."""
    _, inverse, counts = np.unique(np.asarray(groups, dtype=object), return_inverse=True, return_counts=True)
    weights = counts[inverse].astype(np.float64) ** -strength
    return (weights / weights.mean()).astype(np.float32)


def type_log_q(groups: Sequence[str]) -> np.ndarray:
    """Log share of each pair's type. Catalog pairs hold one pair per item, so the per-item logQ is constant
    (a no-op); what is skewed is how often each type shows up as an in-batch negative."""
    _, inverse, counts = np.unique(np.asarray(groups, dtype=object), return_inverse=True, return_counts=True)
    return np.log(counts[inverse] / len(groups)).astype(np.float32)


def catalog_groups(catalog: CatalogStore) -> dict[str, str]:
    """external id -> type, for every item."""
    with catalog.sessions() as session:
        rows = reads.item_types(session)
    return {external_id: group_of(category, attributes) for external_id, category, attributes in rows}


# --- loading a named version ------------------------------------------------------------------------------


def create_encoder_for(
    settings: Settings, version: str, text: TextEncoder | None = None, weights: FusionWeights = DEFAULT_WEIGHTS
) -> MultimodalEncoder:
    """``create_encoder`` for a named tower_clip version instead of ACTIVE (same ``encoder.version`` key)."""
    return create_encoder(settings, weights, text=text, version=version)


def encoder_versions(settings: Settings) -> list[dict]:
    """Encoder versions, newest first: version, created, parent, options, validation recall, active flag."""
    active = registry.active_version(settings)
    rows = []
    for version in reversed(registry.list_versions(settings, kind=MODEL_KIND)):
        config = registry.read_config(registry.version_dir(settings, version))
        run = config.get("run", {})
        rows.append(
            {
                "version": version,
                "created": config.get("created", ""),
                "parent": run.get("parent"),
                "options": run.get("options"),
                "active": version == active,
                "recall@10": config.get("metrics", {}).get("text_to_image_recall@10"),
            }
        )
    return rows


# --- runs ---------------------------------------------------------------------------------------------------


def training_pairs(catalog, options: EncoderRunOptions) -> tuple[list[TrainingPair], dict[str, SourceReport]]:
    """The pairs of every chosen source, and what each source gave or skipped."""
    pairs: list[TrainingPair] = []
    reports: dict[str, SourceReport] = {}
    for source in options.sources:
        report = reports[source] = SourceReport()
        if source == "catalog":
            found = catalog_pairs(catalog, options.catalog_views)
            report.pairs = len(found)
        elif source == "clicks":
            found = click_pairs(catalog, report)
        else:
            assert options.judgments_path is not None  # EncoderRunOptions refuses the judgments source without it
            found = judgment_pairs(catalog, options.judgments_path, options.min_relevance, report)
        pairs.extend(found)
    return pairs, reports


def train_encoder(
    catalog,
    options: EncoderRunOptions,
    *,
    parent: str | None = None,
    on_progress: Callable[[RunProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    text: TextEncoder | None = None,
) -> str:
    """Train and save (not activate) a new encoder version on the catalog pairs; returns its name.

    Raises ``TrainingCancelled`` when ``should_stop`` turns true (checked between epochs; nothing is saved).
    """
    settings = catalog.settings
    pairs, reports = training_pairs(catalog, options)
    if not pairs:
        raise ValueError("no training pairs: " + "; ".join(f"{k}: {v.skipped}" for k, v in reports.items()))
    # Every catalog item can be a negative, also when the pairs come from clicks or judgments only (one row each).
    negatives = options.hard_negatives or options.uniform_negatives
    catalog_items = catalog_pairs(catalog, ("item",)) if negatives and options.sources != ("catalog",) else ()
    groups = catalog_groups(catalog)
    group = lambda kept: [groups.get(p.external_id, "") for p in kept]
    losses: list[float] = []
    step_losses: list[float] = []
    steps = [0]  # batches per epoch, once the first is done
    training_started: list[float] = []  # when the first training step began (after feature caching)
    training_stages = ("training heads", "training towers")

    def report(stage: str, fraction: float, speed: float | None = None) -> None:
        if on_progress is None:
            return
        eta = None
        if stage in training_stages and training_started and fraction > 0:
            elapsed = time.perf_counter() - training_started[0]
            eta = elapsed * (1 - fraction) / fraction
        on_progress(RunProgress(stage, fraction, tuple(losses), speed, eta, tuple(step_losses), steps[0]))

    def on_step(step: int, per_epoch: int, loss: float) -> None:
        step_losses.append(loss)
        steps[0] = per_epoch
        # a point per batch, reported about 100 times a run (each report copies the list)
        if step % max(1, per_epoch * options.epochs // 100) == 0:
            report("training heads", step / max(per_epoch * options.epochs, 1))

    def on_epoch(epoch: int, loss: float, speed: float) -> None:
        losses.append(loss)
        report(training_stages[options.tunes_towers], epoch / options.epochs, speed)

    def on_stage(done: int, total: int, stage: str) -> None:
        if stage in training_stages and not training_started:
            training_started.append(time.perf_counter())
        if stage != "training heads":  # head epochs report through on_epoch, with their loss
            report(stage, done / max(total, 1))

    run_info = {
        "parent": parent,
        "options": asdict(options),
        "source": "+".join(options.sources),
        "pairs": {k: {"pairs": v.pairs, "skipped": v.skipped} for k, v in reports.items()},
        "towers": "tuned" if options.tunes_towers else "frozen",
    }
    weights = (
        (lambda kept: inverse_frequency_weights(group(kept), options.tail_weight)) if options.tail_weight > 0 else None
    )
    # By item: the trainers' own per-item frequency (clicks repeat popular items). By type: catalog pairs hold
    # each item once, so there the type's share is what skews the in-batch negatives.
    log_q = (lambda kept: type_log_q(group(kept))) if options.log_q_by == "type" else None
    if options.tunes_towers:
        version = train_towers(
            pairs,
            settings,
            options.tower_config(),
            parent=parent,
            text=text,
            pair_weights=weights,
            pair_log_q=log_q,
            on_epoch=on_epoch,
            should_stop=should_stop,
            progress=on_stage,
            manifest_extra={"run": run_info},
        )
    else:
        version = train_heads(
            pairs,
            settings,
            progress=on_stage,
            config=options.head_config(),
            activate=False,
            text=text,
            pair_weights=weights,
            pair_log_q=log_q,
            on_epoch=on_epoch,
            on_step=on_step,
            should_stop=should_stop,
            manifest_extra={"run": run_info},
            negative_pool=catalog_items,
            miner_version=parent,
        )
    report("saved", 1.0)
    return version


@dataclass
class EncoderRun:
    """One background training run: poll ``status``/``progress``; ``cancel()`` stops it between epochs."""

    catalog: object
    options: EncoderRunOptions
    parent: str | None = None
    text: TextEncoder | None = None
    on_done: Callable[[EncoderRun], None] | None = None  # called on the run's thread after it ends
    status: str = "pending"  # pending, running, done, cancelled, failed
    progress: RunProgress = field(default_factory=lambda: RunProgress("waiting", 0.0))
    version: str | None = None
    error: str | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> EncoderRun:
        self.status = "running"
        self._thread = threading.Thread(target=self._run, name="taillift-encoder-run", daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True when the run has ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status not in ("pending", "running")

    def _update(self, progress: RunProgress) -> None:
        self.progress = progress

    def _run(self) -> None:
        try:
            self.version = train_encoder(
                self.catalog,
                self.options,
                parent=self.parent,
                on_progress=self._update,
                should_stop=self._cancel.is_set,
                text=self.text,
            )
            self.status = "done"
        except TrainingCancelled as exc:
            self.status, self.error = "cancelled", str(exc)
            self.progress = RunProgress("cancelled", self.progress.fraction, self.progress.losses)
        except Exception as exc:  # reported in the UI/CLI; the serving model is untouched
            log.exception("encoder training run failed")
            self.status, self.error = "failed", f"{type(exc).__name__}: {exc}"
            self.progress = RunProgress("failed", self.progress.fraction, self.progress.losses)
        if self.on_done is not None:
            self.on_done(self)
