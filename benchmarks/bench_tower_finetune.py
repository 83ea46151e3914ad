"""Examples/s of tower fine-tuning vs heads-only training, on the device it finds (CUDA when present).

    PYTHONPATH=. HF_HUB_OFFLINE=1 python benchmarks/bench_tower_finetune.py --steps 20 --batch-size 128
    PYTHONPATH=. HF_HUB_OFFLINE=1 python benchmarks/bench_tower_finetune.py --device cpu --threads 1 \
        --steps 5 --batch-size 16 --image-blocks 1 --text-layers 1

Measured in one process, on the same (text, image) pairs and batch size:

1. tower fine-tuning: one ``TowerTrainer.step`` (forward + backward + AdamW over the heads and the unfrozen last
   EfficientNet-Lite0 blocks / MiniLM layers; AMP on CUDA), on batches whose pixels and tokens are ready, as the
   loader thread of ``train_towers`` prepares them one batch ahead;
2. batch preparation alone (JPEG decode, resize, tokenise: CPU work that run 1 overlaps);
3. heads-only baseline: one step of the head trainer's loop (heads + temperature, symmetric InfoNCE) on cached
   frozen-tower features, at the same batch and at ``--heads-batch-size`` (1024, train_heads' default), and the
   one-time frozen feature extraction those features cost when not cached.

Each prints the median examples/s over ``--steps`` timed steps (after ``--warmup`` untimed ones).
Pairs are synthetic 60x80 JPEG "product photos" with titles unless ``--demo-dir`` names a fashion folder
(styles.csv + images.zip), whose first pairs are used instead.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import platform
import statistics
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import torch

from recsys.encoders.image_tower import ImageTower
from recsys.encoders.text import TextEncoder, pick_device
from recsys.encoders.tower_clip import ClipHeads, TowerClip, TowerClipConfig
from recsys.training.losses import symmetric_info_nce
from recsys.training.pairs import TrainingPair
from recsys.training.tower_finetune import TowerTrainer, TowerTrainingConfig, _batch


def synthetic_pairs(count: int, seed: int = 0) -> list[TrainingPair]:
    """Garment-like JPEGs (a coloured shirt shape with noise) and matching titles."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    kinds = ["t-shirt", "shirt", "dress", "jacket", "kurta", "top", "sweater", "jeans"]
    pairs = []
    for n in range(count):
        rgb = tuple(int(c) for c in rng.integers(0, 256, 3))
        image = Image.fromarray(rng.integers(225, 256, (80, 60, 3), dtype=np.uint8))
        ImageDraw.Draw(image).polygon(
            [(18, 8), (42, 8), (57, 24), (48, 32), (45, 72), (15, 72), (12, 32), (3, 24)], fill=rgb
        )
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=90)
        title = f"Colour {rgb[0]}-{rgb[1]}-{rgb[2]} cotton {kinds[n % len(kinds)]} for men. {kinds[n % len(kinds)]}"
        pairs.append(TrainingPair(f"bench-{n}", title, buf.getvalue()))
    return pairs


def demo_pairs(demo_dir: Path, count: int) -> list[TrainingPair]:
    import pandas as pd

    styles = pd.read_csv(demo_dir / "styles.csv", on_bad_lines="skip")
    pairs = []
    with zipfile.ZipFile(demo_dir / "images.zip") as archive:
        names = set(archive.namelist())
        for row in styles.itertuples():
            for name in (f"{row.id}.jpg", f"images/{row.id}.jpg"):
                if name in names:
                    text = f"{row.productDisplayName}. {row.articleType}, {row.baseColour}, {row.gender}"
                    pairs.append(TrainingPair(str(row.id), text, archive.read(name)))
                    break
            if len(pairs) == count:
                break
    if len(pairs) < count:
        raise SystemExit(f"{demo_dir}: only {len(pairs)} pairs found, {count} needed")
    return pairs


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_rate(batch: int, seconds: list[float]) -> float:
    return batch / statistics.median(seconds)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1, ...")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-blocks", type=int, default=2, help="unfreeze_image_blocks")
    parser.add_argument("--text-layers", type=int, default=2, help="unfreeze_text_layers")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument(
        "--heads-batch-size",
        type=int,
        default=1024,
        help="also time heads-only steps at this batch (train_heads' default; cached rows tiled)",
    )
    parser.add_argument("--no-amp", action="store_true", help="full precision on CUDA too")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave torch's default)")
    parser.add_argument("--demo-dir", type=Path, help="fashion folder (styles.csv + images.zip) instead of synthetic")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    runs = args.warmup + args.steps
    count = args.batch_size * runs
    pairs = demo_pairs(args.demo_dir, count) if args.demo_dir else synthetic_pairs(count)
    batches = [list(range(s, s + args.batch_size)) for s in range(0, count, args.batch_size)]

    text = TextEncoder(device=str(device))
    tower = ImageTower(image_size=args.image_size, device=device)
    config = TowerTrainingConfig(
        batch_size=args.batch_size,
        unfreeze_image_blocks=args.image_blocks,
        unfreeze_text_layers=args.text_layers,
        hidden=args.hidden,
        mixed_precision=not args.no_amp,
    )
    model_config = TowerClipConfig(
        image_size=args.image_size,
        image_dim=tower.dim,
        text_dim=text.dim,
        hidden=args.hidden,
        image_tuned_blocks=args.image_blocks,
        text_tuned_layers=args.text_layers,
    )

    # 2. batch preparation (decode + resize + tokenise), timed alone
    prep_s, prepared = [], []
    for rows in batches:
        started = time.perf_counter()
        prepared.append(_batch(pairs, rows, tower, text))
        prep_s.append(time.perf_counter() - started)

    # 1. tower fine-tuning steps
    torch.manual_seed(0)
    tuned_text = text.tuned_copy()
    tuned_tower = copy.deepcopy(tower)
    model = TowerClip(model_config, tuned_text, ClipHeads(model_config), device=device, image_tower=tuned_tower)
    trainer = TowerTrainer(model, config, total_steps=runs, device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    tune_s = []
    for n, (pixels, tokens) in enumerate(prepared):
        _sync(device)
        started = time.perf_counter()
        trainer.step(pixels, tokens)
        _sync(device)
        if n >= args.warmup:
            tune_s.append(time.perf_counter() - started)
    peak_mb = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    del trainer, model, tuned_text, tuned_tower

    # 3. heads-only baseline: frozen features once (the uncached cost), then head steps on them
    extract_s, image_feats, text_feats = [], [], []
    with torch.no_grad():
        for n, (pixels, tokens) in enumerate(prepared):
            _sync(device)
            started = time.perf_counter()
            image_feats.append(tower(pixels).float())
            text_feats.append(text.embed(tokens).float())
            _sync(device)
            if n >= args.warmup:
                extract_s.append(time.perf_counter() - started)
    torch.manual_seed(0)
    heads = (
        ClipHeads(
            TowerClipConfig(image_size=args.image_size, image_dim=tower.dim, text_dim=text.dim, hidden=args.hidden)
        )
        .to(device)
        .train()
    )
    heads.visual.fit_standardisation(torch.cat(image_feats))
    heads.text.fit_standardisation(torch.cat(text_feats))
    optimizer = torch.optim.AdamW(heads.parameters(), lr=2e-3)

    def head_step(image: torch.Tensor, txt: torch.Tensor) -> float:
        """Seconds of one heads-only optimisation step (device synchronised)."""
        _sync(device)
        started = time.perf_counter()
        loss = symmetric_info_nce(heads.project_text(txt), heads.project_image(image), heads.logit_scale)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        _sync(device)
        return time.perf_counter() - started

    head_s = [head_step(image, txt) for image, txt in zip(image_feats, text_feats)][args.warmup :]
    all_image, all_text = torch.cat(image_feats), torch.cat(text_feats)
    tile = torch.arange(args.heads_batch_size, device=all_image.device) % len(all_image)
    big_s = [head_step(all_image[tile], all_text[tile]) for _ in range(runs)][args.warmup :]

    timed = slice(args.warmup, None)
    result = {
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"cpu ({platform.processor() or platform.machine()})",
        "torch_threads": torch.get_num_threads(),
        "batch_size": args.batch_size,
        "steps": args.steps,
        "image_size": list(tower.size),
        "unfreeze_image_blocks": args.image_blocks,
        "unfreeze_text_layers": args.text_layers,
        "mixed_precision": str(trainer_dtype(device, config)),
        "pairs": "demo" if args.demo_dir else "synthetic",
        "tower_finetune_examples_per_s": _median_rate(args.batch_size, tune_s),
        "batch_prep_examples_per_s": _median_rate(args.batch_size, prep_s[timed]),
        "heads_only_examples_per_s": _median_rate(args.batch_size, head_s),
        "heads_only_batch_size": args.heads_batch_size,
        "heads_only_big_batch_examples_per_s": _median_rate(args.heads_batch_size, big_s),
        "frozen_feature_extraction_examples_per_s": _median_rate(args.batch_size, extract_s),
        "peak_gpu_memory_mb": peak_mb,
    }
    print(
        f"device {result['device']}, {result['torch_threads']} torch threads, batch {args.batch_size}, "
        f"{args.steps} timed steps, input {tower.size[0]}x{tower.size[1]}, {result['pairs']} pairs"
    )
    print(
        f"  tower fine-tuning ({args.image_blocks} image blocks + head conv, {args.text_layers} text layers, "
        f"amp {result['mixed_precision']}): {result['tower_finetune_examples_per_s']:.1f} examples/s (median)"
    )
    print(f"  batch preparation alone (decode, resize, tokenise): {result['batch_prep_examples_per_s']:.1f} examples/s")
    print(
        f"  heads-only on cached features, same batch: {result['heads_only_examples_per_s']:.1f} examples/s; "
        f"batch {args.heads_batch_size}: {result['heads_only_big_batch_examples_per_s']:.1f} examples/s"
    )
    print(
        f"  frozen feature extraction (uncached heads-only cost): "
        f"{result['frozen_feature_extraction_examples_per_s']:.1f} examples/s"
    )
    if peak_mb is not None:
        print(f"  peak GPU memory during fine-tuning: {peak_mb:.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


def trainer_dtype(device: torch.device, config: TowerTrainingConfig) -> str | None:
    from recsys.training.tower_trainer import _amp

    dtype, _ = _amp(device, config.mixed_precision)
    return None if dtype is None else str(dtype).replace("torch.", "")


if __name__ == "__main__":
    main(sys.argv[1:])
