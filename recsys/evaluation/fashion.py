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

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import scipy.linalg
import torch

from recsys import registry
from recsys.config import Settings, get_settings
from recsys.encoders.checkpoint import read_heads
from recsys.encoders.feature_cache import FeatureCache, image_key, open_image, text_key
from recsys.encoders.fusion import (
    DEFAULT_WEIGHTS,
    fuse,
    mean_of_present,
    normalize_rows,
)
from recsys.encoders.image_tower import ImageTower
from recsys.encoders.openclip_path import slug
from recsys.encoders.text import TextEncoder, pick_device
from recsys.encoders.tower_clip import ClipHeads, TowerClipConfig
from recsys.encoders.tower_path import (
    default_config,
    load_version_towers,
)
from recsys.evaluation import fashion_data
from recsys.evaluation.dataset import fingerprint
from recsys.evaluation.metrics import mrr_at_k, ndcg_at_k, r_precision, recall_at_k
from recsys.evaluation.results import method_result, new_report, stopwatch
from recsys.splits import split_keys
from recsys.training.heads import HeadTrainingConfig, train_heads
from recsys.training.pairs import TrainingPair
from recsys.training.retrieval import paired_recall_mrr

NAME = fashion_data.NAME
DEFAULT_LIMIT = 2000  # evaluated items: ~2 minutes of scoring plus cached features on 2 CPU cores
TAIL_FRACTION = 0.2
RIDGE_ALPHAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)  # x n: the diagonal of the standardised Gram matrix is ~n
RIDGE_DEFAULT_ALPHA = 1.0  # used when too few fit items are left to choose on
RIDGE_MIN_VAL = 50


@dataclass(frozen=True)
class Models:
    text: TextEncoder
    tower: ImageTower
    heads: ClipHeads | None  # None until trained
    version: str | None


@dataclass(frozen=True)
class RidgeMap:
    """Standardised image features -> MiniLM text space, least squares with an L2 penalty."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    target_mean: np.ndarray
    alpha: float

    def predict(self, image_features: np.ndarray) -> np.ndarray:
        z = (image_features - self.mean) / self.scale
        return normalize_rows(z @ self.weights + self.target_mean)


def _solve(gram: np.ndarray, cross: np.ndarray, penalty: float) -> np.ndarray:
    eye = np.eye(len(gram))
    return scipy.linalg.solve(gram + penalty * eye, cross, assume_a="pos").astype(np.float32)


def fit_ridge(image: np.ndarray, text: np.ndarray, ids: Sequence[str]) -> RidgeMap:
    """The penalty is chosen by paired MRR@10 on 10% of the fit items (hash of the id), then refitted on all."""
    mean, std = image.mean(0), image.std(0)
    scale = np.where(std > 1e-6, std, 1.0).astype(np.float32)
    z = ((image - mean) / scale).astype(np.float32)
    _, val_ids = split_keys(list(ids), 0.1, salt="taillift-fashion-ridge-validation")
    val = np.isin(np.asarray(ids), val_ids)
    alpha = RIDGE_DEFAULT_ALPHA
    if val.sum() >= RIDGE_MIN_VAL and (~val).sum() > val.sum():
        fit_z, fit_t = z[~val], text[~val]
        gram, fit_mean = (fit_z.T @ fit_z).astype(np.float64), fit_t.mean(0)
        cross = (fit_z.T @ (fit_t - fit_mean)).astype(np.float64)

        def val_mrr(a: float) -> float:
            pred = normalize_rows(z[val] @ _solve(gram, cross, a * len(fit_z)) + fit_mean)
            return paired_recall_mrr(normalize_rows(text[val]), pred, k=10)[1]

        alpha = max(RIDGE_ALPHAS, key=val_mrr)
    target_mean = text.mean(0)
    gram = (z.T @ z).astype(np.float64)
    weights = _solve(gram, (z.T @ (text - target_mean)).astype(np.float64), alpha * len(z))
    return RidgeMap(mean, scale, weights, target_mean, alpha)


def _load_models(settings: Settings, model: str | None) -> Models:
    device = pick_device(settings.device)
    if model is None:
        text = TextEncoder(settings.text_model, str(device), settings.encode_batch_size)
        config = default_config(settings, text.dim)  # the tower train_heads would build
        return Models(text, ImageTower(config.image_tower, config.image_size, config.flip, device=device), None, None)
    parts = load_version_towers(settings, model, device)  # tuned towers too, when the version has them
    return Models(parts.text, parts.tower, parts.heads, model)


class _Features:
    """Frozen-tower features from the shared on-disk cache (the one train_heads fills), computed on a miss."""

    def __init__(self, settings: Settings, models: Models, images: dict[str, bytes]) -> None:
        root = settings.data_dir / "features"
        self.models, self.images = models, images
        self.image_cache = FeatureCache(root, models.tower.id)
        self.text_cache = FeatureCache(root, "text-" + slug(models.text.model_name))

    def image(self, ids: Sequence[str]) -> np.ndarray:
        blobs = [self.images[i] for i in ids]
        compute = lambda idx: self.models.tower.features([open_image(blobs[n]) for n in idx])
        return self.image_cache.get_or_compute([image_key(b) for b in blobs], compute, self.models.tower.dim)

    def text(self, texts: Sequence[str]) -> np.ndarray:
        compute = lambda idx: self.models.text.encode([texts[n] for n in idx])
        return self.text_cache.get_or_compute([text_key(t) for t in texts], compute, self.models.text.dim)


def _project(heads: ClipHeads, image: np.ndarray | None = None, text: np.ndarray | None = None) -> np.ndarray:
    with torch.no_grad():
        if image is not None:
            return heads.project_image(torch.from_numpy(image)).numpy()
        return heads.project_text(torch.from_numpy(text)).numpy()


def rank(scores: np.ndarray, seed: int) -> np.ndarray:
    """Corpus positions best first for each query row; ties go by a seeded shuffle, never by corpus order."""
    tiebreak = np.random.default_rng(seed).random(scores.shape[1])
    return np.stack([np.lexsort((tiebreak, -row)) for row in scores])


def ranking_metrics(scores: np.ndarray, relevant: Sequence[set[int]], seed: int) -> dict[str, np.ndarray]:
    """Per-query Recall@1/10/100, MRR@10, nDCG@10 and R-precision of the ``rank`` order."""
    out: dict[str, list[float]] = {
        "recall@1": [],
        "recall@10": [],
        "recall@100": [],
        "mrr@10": [],
        "ndcg@10": [],
        "r_precision": [],
    }
    for order, rel in zip(rank(scores, seed), relevant):
        ranked = order[: max(100, len(rel))].tolist()
        for k in (1, 10, 100):
            out[f"recall@{k}"].append(recall_at_k(ranked, rel, k))
        out["mrr@10"].append(mrr_at_k(ranked, rel, 10))
        out["ndcg@10"].append(ndcg_at_k(ranked, rel, 10))
        out["r_precision"].append(r_precision(ranked, rel))
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def _fit_heads(
    split: fashion_data.FashionSplit,
    settings: Settings,
    models: Models,
    config: HeadTrainingConfig,
    evaluated: frozenset[str],
) -> tuple[ClipHeads, str]:
    """(heads, version) trained on the fit items with ``models``' towers."""
    pairs = [TrainingPair(r.id, fashion_data.pair_text(r), split.images[r.id]) for r in split.fit.itertuples()]
    # exclude: the split already removed evaluated ids; this keeps that true whatever the split code becomes
    version = train_heads(
        pairs,
        settings,
        exclude=evaluated.__contains__,
        config=config,
        activate=False,
        text=models.text,
        tower=models.tower,
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
) -> dict:
    """``model`` evaluates an existing tower_clip version as is; otherwise heads are trained on the fit items
    (``head_config``, seeded with ``seed``) into ``settings.models_dir`` without activating them."""
    settings = settings or get_settings()
    timings: dict = {}
    with stopwatch(timings, "load"):
        data_path = fashion_data.suite_dir(data_dir)
        train_path = fashion_data.suite_dir(train_dir) if train_dir else None
        split = fashion_data.load(data_path, train_path, limit)
        models = _load_models(settings, model)
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
        feats = _Features(settings, models, split.images)
        fit_image = feats.image(list(fit["id"]))
        fit_text = feats.text([fashion_data.pair_text(r) for r in fit.itertuples()])
        image = feats.image(list(ev["id"]))
        titles = feats.text(list(ev["productDisplayName"]))
        untitled = [fashion_data.untitled_texts(r) for r in ev.itertuples()]
        item_clip, item_bert = feats.text([u[0] for u in untitled]), feats.text([u[1] for u in untitled])
        types = sorted(set(ev["articleType"]))
        type_text = feats.text(types)

    fit_seconds: dict = {}
    if models.heads is not None and models.version is not None:  # an existing version (``model``)
        heads, version = models.heads, models.version
    else:
        config = replace(head_config or HeadTrainingConfig(), seed=seed)
        with stopwatch(fit_seconds, "fit"):
            heads, version = _fit_heads(split, settings, models, config, evaluated)
    timings["fit_heads"] = fit_seconds.get("fit", 0.0)
    ridge_seconds: dict = {}
    with stopwatch(ridge_seconds, "fit"):
        ridge = fit_ridge(fit_image, fit_text, list(fit["id"]))
    timings["fit_ridge"] = ridge_seconds["fit"]

    manifest = registry.read_config(registry.version_dir(settings, version))
    report["model"] = {
        "version": version,
        "trained_here": model is None,
        "head_config": manifest["training"],
        "validation": {k: v for k, v in manifest["metrics"].items() if k != "epoch_losses"},
    }
    tail = fashion_data.tail_types(fit["articleType"], TAIL_FRACTION)
    fit_types = frozenset(fit["articleType"])
    item_tail = np.array([fashion_data.is_tail(t, tail, fit_types) for t in ev["articleType"]])
    type_tail = np.array([fashion_data.is_tail(t, tail, fit_types) for t in types])
    own = [{n} for n in range(len(ev))]
    by_type = [set(np.flatnonzero(ev["articleType"].to_numpy() == t).tolist()) for t in types]
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
        (
            f"ridge_map: penalty {ridge.alpha} x n chosen on 10% of the fit items; it maps frozen image features "
            "to MiniLM vectors of the fit pair texts; queries are MiniLM vectors"
        ),
    ]

    with stopwatch(timings, "project"):
        joint_image = _project(heads, image=image)
        joint_title, joint_type = _project(heads, text=titles), _project(heads, text=type_text)
        joint_item = mean_of_present(joint_image, _project(heads, text=item_clip))
        fused_item = fuse(joint_item, item_bert, DEFAULT_WEIGHTS)
        fused_title = fuse(joint_title, titles, DEFAULT_WEIGHTS)
        ridge_image = ridge.predict(image)
    heads_fit = {"fit": timings["fit_heads"]} if model is None else {}
    rng = np.random.default_rng(seed)
    noise = lambda rows: lambda: rng.random((rows, len(ev)))  # draws happen in the fixed task order
    # task -> (relevant per query, tail mask per query, method -> (scores, fit seconds, notes)); scores are lazy
    # so that each method's "score" time includes its matrix product
    tasks = {
        "title->image": (
            own,
            item_tail,
            {
                "random": (noise(len(ev)), {}, "seeded uniform scores"),
                "ridge_map": (
                    lambda: titles @ ridge_image.T,
                    ridge_seconds,
                    "MiniLM(title) vs ridge-mapped image features",
                ),
                "taillift_joint": (
                    lambda: joint_title @ joint_image.T,
                    heads_fit,
                    "joint space: text head vs image head",
                ),
            },
        ),
        "title->item": (
            own,
            item_tail,
            {
                "random": (noise(len(ev)), {}, "seeded uniform scores"),
                "minilm_text": (
                    lambda: titles @ item_bert.T,
                    {},
                    "MiniLM(title) vs MiniLM(category path + attributes)",
                ),
                "taillift_fused": (
                    lambda: fused_title @ fused_item.T,
                    heads_fit,
                    "fused vectors: joint 0.6 (image + untitled clip text), MiniLM 0.4",
                ),
            },
        ),
        "category->image": (
            by_type,
            type_tail,
            {
                "random": (noise(len(types)), {}, "seeded uniform scores"),
                "ridge_map": (
                    lambda: type_text @ ridge_image.T,
                    ridge_seconds,
                    "MiniLM(type name) vs ridge-mapped image features",
                ),
                "taillift_joint": (
                    lambda: joint_type @ joint_image.T,
                    heads_fit,
                    "joint space: text head vs image head",
                ),
            },
        ),
    }
    for task, (relevant, tail_mask, methods) in tasks.items():
        for name, (scores, fit_secs, notes) in methods.items():
            seconds = dict(fit_secs)
            with stopwatch(seconds, "score"):
                per_query = ranking_metrics(scores(), relevant, seed)
            report["methods"][f"{task}/{name}"] = method_result(
                per_query, segments={"head types": ~tail_mask, "tail types": tail_mask}, seconds=seconds, notes=notes
            )
    report["timings"] = timings
    return report
