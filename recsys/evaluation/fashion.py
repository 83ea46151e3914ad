"""Fashion suite: title->image, title->item and category->image retrieval over held-out catalog photos.

Tasks (corpus = the evaluated items only; one query per evaluated item, or per article type):
- ``title->image``: query = productDisplayName, corpus = the items' photos, relevant = the item's own photo;
- ``title->item``: query = the title, corpus = whole items WITHOUT their titles (image + category path +
  attributes), so the title cannot be found by copying it; relevant = the item itself;
- ``category->image``: query = an article type name, relevant = every evaluated item of that type.
Methods: ``random``; a zero-deep-training baseline (``ridge_map``: a ridge map from frozen image-tower
features to MiniLM text vectors fitted on the fit pairs; ``minilm_text`` for title->item); TailLift (heads
trained here with ``train_heads``, or the ``model`` version given; ``taillift_joint``/``taillift_fused``).
Segments: head vs tail article types, tail = the rarest types holding 20% of the fit items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from recsys import registry
from recsys.config import Settings, get_settings
from recsys.encoders.attribute_smoothing import Smoothing, smooth
from recsys.encoders.category_prompts import TEMPLATES, ensemble, prompt_texts
from recsys.encoders.checkpoint import read_heads
from recsys.encoders.feature_cache import FeatureCache, image_key, open_image, text_key
from recsys.encoders.fusion import DEFAULT_WEIGHTS, fuse, mean_of_present
from recsys.encoders.image_tower import ImageTower
from recsys.encoders.openclip_path import slug
from recsys.encoders.text import TextEncoder, pick_device
from recsys.encoders.tower_clip import ClipHeads, TowerClipConfig
from recsys.encoders.tower_path import default_config, load_version_towers
from recsys.evaluation import fashion_data
from recsys.evaluation.dataset import fingerprint
from recsys.evaluation.fashion_scoring import ABLATIONS, fit_ridge, ranking_metrics, scoring_tasks
from recsys.evaluation.results import method_result, new_report, stopwatch
from recsys.progress import Progress
from recsys.training.heads import HeadTrainingConfig, train_heads
from recsys.training.pair_sources import CATALOG_VIEWS
from recsys.training.pairs import TrainingPair

NAME = fashion_data.NAME
DEFAULT_LIMIT = 0  # evaluated items: 0 = the whole held-out corpus given (issue 19); a sample is an option
HEADLINE_METRICS = {"category->image": "ndcg@10", "title->image": "recall@10", "title->item": "recall@10"}
SAMPLE_LIMIT = 2000  # the sampled corpus of earlier reports: ~2 minutes of scoring plus cached features on 2 CPUs
TAIL_FRACTION = 0.2
FEATURE_STEP = 64  # rows per tower call between two progress reports
RIDGE_SKIPPED = "not fitted: ridge=False (it needs tower features of every fit item, minutes on a CPU)"


@dataclass(frozen=True)
class Models:
    text: TextEncoder
    tower: ImageTower
    heads: ClipHeads | None  # None until trained
    version: str | None


def _load_models(settings: Settings, model: str | None, shared: TextEncoder | None = None) -> Models:
    device = pick_device(settings.device)
    if model is None:
        text = shared or TextEncoder(
            settings.text_model, str(device), settings.encode_batch_size, query_precision=settings.query_precision
        )
        config = default_config(settings, text.dim)  # the tower train_heads would build
        return Models(text, ImageTower(config.image_tower, config.image_size, config.flip, device=device), None, None)
    parts = load_version_towers(settings, model, device, shared)  # tuned towers too, when the version has them
    return Models(parts.text, parts.tower, parts.heads, model)


class _Features:
    """Frozen-tower features from the shared on-disk cache (the one train_heads fills), computed on a miss in
    steps of ``FEATURE_STEP`` rows, each step reported as (done, missing rows, stage)."""

    def __init__(
        self, settings: Settings, models: Models, images: dict[str, bytes], progress: Progress | None = None
    ) -> None:
        root = settings.data_dir / "features"
        self.models, self.images, self.progress = models, images, progress
        self.image_cache = FeatureCache(root, models.tower.id)
        self.text_cache = FeatureCache(root, "text-" + slug(models.text.model_name))

    def image(self, ids: Sequence[str], stage: str = "image features") -> np.ndarray:
        blobs = [self.images[i] for i in ids]
        compute = lambda idx: self.models.tower.features([open_image(blobs[n]) for n in idx])
        keys = [image_key(b) for b in blobs]
        return self._cached(self.image_cache, keys, compute, self.models.tower.dim, stage)

    def text(self, texts: Sequence[str], stage: str = "text features") -> np.ndarray:
        compute = lambda idx: self.models.text.encode([texts[n] for n in idx])
        keys = [text_key(t) for t in texts]
        return self._cached(self.text_cache, keys, compute, self.models.text.dim, stage)

    def _cached(
        self,
        cache: FeatureCache,
        keys: list[str],
        compute: Callable[[list[int]], np.ndarray],
        dim: int,
        stage: str,
    ) -> np.ndarray:
        missing = len({k for k in keys if k not in cache})
        done = 0

        def stepped(idx: list[int]) -> np.ndarray:
            nonlocal done
            parts = []
            for start in range(0, len(idx), FEATURE_STEP):
                parts.append(compute(idx[start : start + FEATURE_STEP]))
                done += len(parts[-1])
                if self.progress is not None:
                    self.progress(done, missing, stage)
            return np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)

        if self.progress is not None:
            self.progress(0, missing, stage)
        return cache.get_or_compute(keys, stepped, dim)


def _project(heads: ClipHeads, image: np.ndarray | None = None, text: np.ndarray | None = None) -> np.ndarray:
    with torch.no_grad():
        if image is not None:
            return heads.project_image(torch.from_numpy(image)).numpy()
        return heads.project_text(torch.from_numpy(text)).numpy()


def _fit_heads(
    split: fashion_data.FashionSplit,
    settings: Settings,
    models: Models,
    config: HeadTrainingConfig,
    evaluated: frozenset[str],
    views: tuple[str, ...],
    progress: Progress | None = None,
) -> tuple[ClipHeads, str]:
    """(heads, version) trained on the fit items' catalog views with ``models``' towers."""
    pairs = [
        TrainingPair(r.id, text, split.images[r.id], fashion_data.pair_attributes(r))
        for r in split.fit.itertuples()
        for text in fashion_data.pair_texts(r, views)
    ]
    # exclude: the split already removed evaluated ids; this keeps that true whatever the split code becomes
    version = train_heads(
        pairs,
        settings,
        exclude=evaluated.__contains__,
        config=config,
        activate=False,
        text=models.text,
        tower=models.tower,
        progress=progress,
    )
    folder = registry.version_dir(settings, version)
    return read_heads(folder, TowerClipConfig.from_dict(registry.read_config(folder)["model"])), version


def run(
    data_dir: Path | str,
    train_dir: Path | str | None = None,
    settings: Settings | None = None,
    seed: int = 0,
    *,
    model: str | None = None,
    limit: int = DEFAULT_LIMIT,
    head_config: HeadTrainingConfig | None = None,
    ridge: bool = True,
    progress: Progress | None = None,
    text: TextEncoder | None = None,
    ablations: bool | None = None,
    smoothing: Smoothing | None = None,
    views: tuple[str, ...] = CATALOG_VIEWS,
    vectors_out: dict | None = None,
) -> dict:
    """``model`` evaluates an existing tower_clip version as is; otherwise heads are trained on the fit items
    (``head_config``, seeded with ``seed``) into ``settings.models_dir`` without activating them.

    ``ridge=False`` leaves out the ridge_map baseline: with ``model`` given nothing else needs the fit items'
    tower features, so only the evaluated items are encoded (the quick before/after of the Training tab).
    ``progress(done, total, stage)`` reports each phase (reading, loading, features, fitting, scoring). ``text``:
    a MiniLM already loaded (the app's), used instead of loading another copy (a tuned version copies it).
    ``ablations`` (default: ``ridge``) adds the query-time rows of ``fashion_scoring.ABLATIONS`` (prompt ensemble,
    CSLS, attribute smoothing of the image vectors by ``smoothing``); the quick comparison leaves them out, so it
    neither encodes the prompts nor scores those rows. ``views``: the texts of each fit item the heads train on
    (``recsys.training.pair_sources.CATALOG_VIEWS``, as first start and the Training tab do). ``vectors_out``:
    filled with the evaluated ``ids``, ``titles``, untitled MiniLM texts (``untitled``) and the scored ``vectors``
    by name, so a benchmark can give other engines the very vectors this run scores (``benchmarks/bench_peers.py``)."""
    ablations = ridge if ablations is None else ablations
    smoothing = smoothing or Smoothing()
    settings = settings or get_settings()
    say = progress or (lambda done, total, stage: None)
    timings: dict = {}
    with stopwatch(timings, "load"):
        say(0, 0, "reading the fashion data")
        data_path = fashion_data.suite_dir(data_dir)
        train_path = fashion_data.suite_dir(train_dir) if train_dir else None
        split = fashion_data.load(data_path, train_path, limit, fit_images=ridge or model is None)
        say(0, 0, f"loading {model or 'the towers'}")
        models = _load_models(settings, model, text)
    if split.fit.empty or split.evaluated.empty:
        raise ValueError(f"fashion: nothing to fit ({len(split.fit)}) or evaluate ({len(split.evaluated)})")
    train_info = (
        None
        if train_path is None
        else {"dir": str(train_path), "fingerprint": fingerprint(train_path, fashion_data.FILES)}
    )
    report = new_report(NAME, data_path, fingerprint(data_path, fashion_data.FILES), seed, split.text, train_info)
    fit, ev = split.fit, split.evaluated
    evaluated = frozenset(ev["id"])

    with stopwatch(timings, "features"):
        feats = _Features(settings, models, split.images, progress)
        image = feats.image(list(ev["id"]))
        untitled = [fashion_data.untitled_texts(r) for r in ev.itertuples()]
        types = sorted(set(ev["articleType"]))
        prompts = prompt_texts(types) if ablations else []
        texts = list(ev["productDisplayName"]) + [u[0] for u in untitled] + [u[1] for u in untitled] + types
        encoded = feats.text(texts + prompts)  # one pass, so the progress counts every evaluated text once
        n, m = len(ev), len(types)
        titles, item_clip, item_bert, type_text, type_prompts = (
            encoded[:n],
            encoded[n : 2 * n],
            encoded[2 * n : 3 * n],
            encoded[3 * n : 3 * n + m],
            encoded[3 * n + m :],
        )
        if ridge:
            fit_image = feats.image(list(fit["id"]), "image features (fit items, ridge baseline)")
            fit_text = feats.text([fashion_data.pair_text(r) for r in fit.itertuples()], "text features (fit items)")
        del feats  # the caches hold every feature row of the tower (436 MB for the full fit set): free them here

    fit_seconds: dict = {}
    if models.heads is not None and models.version is not None:  # an existing version (``model``)
        heads, version = models.heads, models.version
    else:
        config = replace(head_config or HeadTrainingConfig(), seed=seed)
        with stopwatch(fit_seconds, "fit"):
            heads, version = _fit_heads(split, settings, models, config, evaluated, tuple(views), progress)
    timings["fit_heads"] = fit_seconds.get("fit", 0.0)
    ridge_seconds: dict = {}
    ridge_map = None
    if ridge:
        say(0, 0, "fitting the ridge baseline")
        with stopwatch(ridge_seconds, "fit"):
            ridge_map = fit_ridge(fit_image, fit_text, list(fit["id"]))
            del fit_image, fit_text  # the largest arrays of the run; only the map is needed from here on
        timings["fit_ridge"] = ridge_seconds["fit"]

    manifest = registry.read_config(registry.version_dir(settings, version))
    report["model"] = {
        "version": version,
        "trained_here": model is None,
        "head_config": manifest["training"],
        "catalog_views": list(views) if model is None else None,
        "validation": {k: v for k, v in manifest["metrics"].items() if k != "epoch_losses"},
    }
    tail = fashion_data.tail_types(fit["articleType"], TAIL_FRACTION)
    fit_types = frozenset(fit["articleType"])
    item_tail = np.array([fashion_data.is_tail(t, tail, fit_types) for t in ev["articleType"]])
    type_tail = np.array([fashion_data.is_tail(t, tail, fit_types) for t in types])
    report["dataset"] = {
        "fit_items": len(fit),
        "evaluated_items": len(ev),
        "evaluable_items": split.pool,
        "limit": limit,
        "dropped_train_overlap": split.dropped_overlap,
        "article_types_evaluated": len(types),
        "tail_types_in_fit": len(tail),
        "tail_items_evaluated": int(item_tail.sum()),
        "tail_types_evaluated": int(type_tail.sum()),
        "tail_rule": f"tail = the least frequent article types holding {TAIL_FRACTION:.0%} of the fit items "
        "(plus types absent from the fit data)",
    }
    report["notes"] = [
        (
            "title->image and title->item: relevant = the item itself, so another item with the same title counts "
            "as a miss for every method"
        ),
        "title->item corpus texts have the item's title removed (category path + attributes only), image kept",
    ]
    if ridge_map is not None:
        report["notes"].append(
            f"ridge_map: penalty {ridge_map.alpha} x n chosen on 10% of the fit items; it maps frozen image "
            "features to MiniLM vectors of the fit pair texts; queries are MiniLM vectors"
        )
    else:
        report["missing_methods"].update(
            {f"{task}/ridge_map": RIDGE_SKIPPED for task in ("title->image", "category->image")}
        )

    with stopwatch(timings, "project"):
        joint_image = _project(heads, image=image)
        joint_title, joint_type = _project(heads, text=titles), _project(heads, text=type_text)
        joint_item = mean_of_present(joint_image, _project(heads, text=item_clip))
        vectors = {
            "titles": titles,
            "item_bert": item_bert,
            "type_text": type_text,
            "joint_image": joint_image,
            "joint_title": joint_title,
            "joint_type": joint_type,
            "fused_item": fuse(joint_item, item_bert, DEFAULT_WEIGHTS),
            "fused_title": fuse(joint_title, titles, DEFAULT_WEIGHTS),
        }
        if ablations:  # the prompt-ensemble type queries (not encoded by the quick run)
            vectors["joint_type_prompts"] = ensemble(_project(heads, text=type_prompts), len(TEMPLATES))
            # the index-time hyperedges: the corpus items' own type/colour/gender groups
            attrs = [dict(fashion_data.pair_attributes(r)) for r in ev.itertuples()]
            groups = {f: [a.get(f, "") for a in attrs] for f in smoothing.fields}
            vectors["joint_image_smoothed"] = smooth(joint_image, groups, smoothing.alpha, smoothing.weighting)
            report["smoothing"] = smoothing.to_dict()
    if vectors_out is not None:
        vectors_out.update(
            ids=list(ev["id"]),
            titles=list(ev["productDisplayName"]),
            untitled=[u[1] for u in untitled],
            vectors=vectors,
        )
    own = [{n} for n in range(len(ev))]
    by_type = [set(np.flatnonzero(ev["articleType"].to_numpy() == t).tolist()) for t in types]
    tasks = scoring_tasks(
        vectors, ridge_map, image, own, by_type, item_tail, type_tail, seed, model is None, timings, ridge_seconds
    )
    if not ablations:
        tasks = {
            task: (relevant, tail_mask, {k: m for k, m in methods.items() if k not in ABLATIONS})
            for task, (relevant, tail_mask, methods) in tasks.items()
        }
        report["notes"].append(f"query-time ablation rows not scored (ablations=False): {', '.join(sorted(ABLATIONS))}")
    scored = [(task, name) for task, (_, _, methods) in tasks.items() for name in methods]
    for task, (relevant, tail_mask, methods) in tasks.items():
        for name, (scores, fit_secs, notes) in methods.items():
            say(len(report["methods"]), len(scored), "scoring")
            seconds = dict(fit_secs)
            with stopwatch(seconds, "score"):
                per_query = ranking_metrics(scores(), relevant, seed)
            report["methods"][f"{task}/{name}"] = method_result(
                per_query, segments={"head types": ~tail_mask, "tail types": tail_mask}, seconds=seconds, notes=notes
            )
    say(len(scored), len(scored), "scoring")
    report["headline"] = tail_head_ratios(report["methods"])
    report["timings"] = timings
    return report


def tail_head_ratios(methods: dict) -> dict[str, float]:
    """Tail-type over head-type value of each method's task metric (category: nDCG@10, titles: R@10): the
    headline of issue 19, 1.0 = rare article types served as well as frequent ones."""
    out: dict[str, float] = {}
    for name, result in methods.items():
        segments = result.get("segments", {})
        head, tail = (
            segments.get("head types", {}).get("metrics", {}),
            segments.get("tail types", {}).get("metrics", {}),
        )
        metric = HEADLINE_METRICS.get(name.split("/")[0], "ndcg@10")
        if head.get(metric) and tail.get(metric) is not None:
            out[f"{name} tail/head {metric}"] = float(tail[metric]) / float(head[metric])
    return out


def format_headline(report: dict) -> str:
    """The tail/head ratios as lines printed under the suite's table."""
    ratios = report.get("headline", {})
    return "\n".join(["headline: tail types / head types"] + [f"  {k}: {v:.2f}x" for k, v in ratios.items()])
