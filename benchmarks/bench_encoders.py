"""Encoder benchmark on the real fashion catalog: tower throughput, head training time, held-out title->image quality.

    HF_HUB_OFFLINE=1 python benchmarks/bench_encoders.py [--train-limit N] [--seeds 3] [--image-size 96]

Training uses only items that are NOT held out (``recsys.splits.is_holdout``); quality is measured on the first
``--eval-size`` held-out items (by id): each title is a query, the corpus is those items' images alone, and the
item's own image is the one relevant result. Tower features are cached under ``<data_dir>/features``, so only
the first run pays for them; runs after that re-train the heads in minutes.
"""

from __future__ import annotations

import argparse
import statistics
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from recsys import registry
from recsys.config import Settings
from recsys.encoders.checkpoint import read_heads
from recsys.encoders.content import clip_text
from recsys.encoders.feature_cache import open_image
from recsys.encoders.image_tower import ImageTower
from recsys.encoders.text import TextEncoder
from recsys.encoders.tower_clip import TowerClipConfig
from recsys.evaluation.metrics import mrr_at_k, rank_by_scores, recall_at_k
from recsys.splits import is_holdout
from recsys.training.heads import HeadTrainingConfig, compute_features, train_heads
from recsys.training.pairs import TrainingPair


def load_catalog(fashion_dir: Path) -> tuple[pd.DataFrame, dict[int, bytes]]:
    styles = pd.read_csv(fashion_dir / "styles.csv").dropna(subset=["productDisplayName"]).sort_values("id")
    with zipfile.ZipFile(fashion_dir / "images.zip") as archive:
        names = set(archive.namelist())
        styles = styles[[f"{i}.jpg" in names for i in styles.id]]
        images = {int(i): archive.read(f"{i}.jpg") for i in styles.id}
    return styles, images


def pairs_of(rows: pd.DataFrame, images: dict[int, bytes], title_only: bool = False) -> list[TrainingPair]:
    def text(r) -> str:
        attrs = {"baseColour": r.baseColour if isinstance(r.baseColour, str) else "", "gender": r.gender}
        return r.productDisplayName if title_only else clip_text(r.productDisplayName, r.articleType, attrs)

    return [TrainingPair(str(r.id), text(r), images[int(r.id)]) for r in rows.itertuples()]


def throughput(tower: ImageTower, text: TextEncoder, pairs: list[TrainingPair], repeats: int) -> tuple[float, float]:
    """Median images/s and texts/s of the frozen towers over ``repeats`` timed runs (after one warm-up)."""
    images = [open_image(p.image) for p in pairs]
    texts = [p.text for p in pairs]
    tower.features(images[:32]), text.encode(texts[:32])
    image_runs, text_runs = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        tower.features(images)
        image_runs.append(len(images) / (time.perf_counter() - start))
        start = time.perf_counter()
        text.encode(texts)
        text_runs.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(image_runs), statistics.median(text_runs)


def held_out_quality(
    settings: Settings,
    version: str,
    eval_pairs: list[TrainingPair],
    queries: list[str],
    tower: ImageTower,
    text: TextEncoder,
) -> tuple[float, float]:
    """Title->image Recall@10 and MRR@10 of a saved version over the held-out image corpus."""
    folder = registry.version_dir(settings, version)
    heads = read_heads(folder, TowerClipConfig.from_dict(registry.read_config(folder)["model"]))
    features = compute_features(eval_pairs, settings, tower, text)
    query_pairs = [replace(p, text=q) for p, q in zip(eval_pairs, queries)]
    query_feats = compute_features(query_pairs, settings, tower, text).text
    with torch.no_grad():
        items = heads.project_image(torch.from_numpy(features.image)).numpy()
        found = heads.project_text(torch.from_numpy(query_feats)).numpy()
    ids = [p.external_id for p in eval_pairs]
    recalls, mrrs = [], []
    for row, query in enumerate(found):
        ranked = rank_by_scores(ids, items @ query)[:10]
        recalls.append(recall_at_k(ranked, [ids[row]], 10))
        mrrs.append(mrr_at_k(ranked, [ids[row]], 10))
    return float(np.mean(recalls)), float(np.mean(mrrs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fashion", type=Path, default=None, help="folder with styles.csv + images.zip")
    parser.add_argument("--data-dir", type=Path, default=None, help="feature cache + model versions (settings)")
    parser.add_argument("--image-size", type=int, default=None, help="tower input height (settings.image_size)")
    parser.add_argument("--train-limit", type=int, default=0, help="cap on training pairs (0 = all non-held-out)")
    parser.add_argument("--eval-size", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=3, help="head trainings with different seeds")
    parser.add_argument("--epochs", type=int, default=HeadTrainingConfig.epochs)
    parser.add_argument("--repeats", type=int, default=3, help="timed throughput runs")
    parser.add_argument("--title-only", action="store_true", help="train on bare titles, not clip_text")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    overrides = {k: v for k, v in {"data_dir": args.data_dir, "image_size": args.image_size}.items() if v}
    settings = Settings.from_env(overrides)
    styles, images = load_catalog(args.fashion or settings.demo_dir)
    held = styles[styles.id.map(is_holdout)]
    train = styles[~styles.id.map(is_holdout)]
    if args.train_limit:
        train = train.sample(n=min(args.train_limit, len(train)), random_state=0)
    eval_rows = held.head(args.eval_size)
    train_pairs, eval_pairs = pairs_of(train, images, args.title_only), pairs_of(eval_rows, images)
    print(f"catalog {len(styles)} items: {len(train_pairs)} training pairs, {len(eval_pairs)} held-out eval items")

    text = TextEncoder(settings.text_model, "cpu", settings.encode_batch_size)
    tower = ImageTower(settings.image_tower, settings.image_size, flip=TowerClipConfig.flip)
    images_per_s, texts_per_s = throughput(tower, text, eval_pairs[:256], args.repeats)
    print(
        f"tower {tower.id}: median {images_per_s:.0f} images/s, MiniLM median {texts_per_s:.0f} texts/s "
        f"({args.threads} threads, {args.repeats} runs of 256)"
    )

    start = time.perf_counter()
    compute_features(train_pairs, settings, tower, text)  # cached after the first run
    print(
        f"tower features for training pairs: {time.perf_counter() - start:.1f}s "
        f"(cache: {settings.data_dir / 'features'})"
    )

    fits, recalls, mrrs = [], [], []
    for seed in range(args.seeds):
        config = HeadTrainingConfig(epochs=args.epochs, seed=seed)
        version = train_heads(train_pairs, settings, config=config, activate=False, text=text, tower=tower)
        metrics = registry.read_config(registry.version_dir(settings, version))["metrics"]
        recall, mrr = held_out_quality(settings, version, eval_pairs, list(eval_rows.productDisplayName), tower, text)
        fits.append(metrics["fit_seconds"])
        recalls.append(recall)
        mrrs.append(mrr)
        print(
            f"seed {seed}: {version} fit {metrics['fit_seconds']:.1f}s, held-out title->image "
            f"R@10 {recall:.3f} MRR@10 {mrr:.3f} (validation R@10 {metrics['text_to_image_recall@10']:.3f})"
        )
    print(
        f"median over {args.seeds} seeds: head training {statistics.median(fits):.1f}s, "
        f"held-out title->image R@10 {statistics.median(recalls):.3f}, MRR@10 {statistics.median(mrrs):.3f} "
        f"({len(eval_pairs)} images)"
    )


if __name__ == "__main__":
    main()
