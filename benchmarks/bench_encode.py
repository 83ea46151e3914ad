"""Bulk-encoding throughput on whatever device is present: images/s, texts/s and whole items/s.

    HF_HUB_OFFLINE=1 python benchmarks/bench_encode.py --items 2000 [--batch-size 256] [--device cuda] [--json]

What bulk import and a model switch run, on real fashion items (``--data``: styles.csv + images.zip): the
service's ``create_encoder(settings)`` (packaged EfficientNet-lite0 tower + MiniLM, the active heads or untrained
ones: speed does not depend on the head weights), called in batches of ``--batch-size``:
- ``images_per_s``: ``encode_images`` (tower + image head) on decoded photos; JPEG decoding is timed apart
  (``decode_images_per_s``: one CPU thread, PIL), as a data loader would run it beside the device;
- ``texts_per_s``: ``encoder.text.encode`` (MiniLM, the text route) on the items' titles;
- ``items_per_s``: ``encode_items`` (every route of an item: joint text, MiniLM, image, fused), what
  ``search.indexing.encode_and_store`` calls per batch, without the database write.
Each figure is the median of ``--repeats`` timed passes after one warm-up pass. The issue's aim: >= 2,000
images/s on one H100/H200-class GPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from recsys.config import get_settings
from recsys.encoders.factory import create_encoder
from recsys.encoders.feature_cache import open_image
from recsys.evaluation import fashion_data


def passes(fn, batches: list, repeats: int) -> float:
    """Median seconds of one pass of ``fn`` over every batch, after a warm-up pass."""
    for b in batches:
        fn(b)
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        for b in batches:
            fn(b)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    base = get_settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=1000, help="real fashion items encoded per pass")
    p.add_argument("--batch-size", type=int, default=base.encode_batch_size)
    p.add_argument("--device", default=base.device, help="auto | cpu | cuda (RECSYS_DEVICE)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--data", default=str(base.demo_dir), help="folder with styles.csv and images.zip")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    settings = replace(base, device=args.device, encode_batch_size=args.batch_size)

    rows = fashion_data.read_rows(Path(args.data)).head(args.items)
    blobs = fashion_data.read_images(Path(args.data), rows["id"])
    start = time.perf_counter()
    images = [open_image(blobs[i]) for i in rows["id"]]
    decode_s = time.perf_counter() - start
    contents = [
        replace(fashion_data.content(r, with_title=True), images=[im]) for r, im in zip(rows.itertuples(), images)
    ]
    titles = [c.title for c in contents]

    encoder = create_encoder(settings)
    device = str(encoder.text.device)
    size = args.batch_size
    cut = lambda xs: [xs[i : i + size] for i in range(0, len(xs), size)]
    n = len(contents)
    with torch.inference_mode():
        image_s = passes(encoder.encode_images, cut(images), args.repeats)
        text_s = passes(encoder.text.encode, cut(titles), args.repeats)
        item_s = passes(encoder.encode_items, cut(contents), args.repeats)
    result = {
        "items": n,
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "batch_size": size,
        "images_per_s": n / image_s,
        "texts_per_s": n / text_s,
        "items_per_s": n / item_s,
        "decode_images_per_s": n / decode_s,
        "heads_trained": encoder.trained,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{n} real fashion items, batch {size}, device {device} {result['gpu'] or ''}".rstrip())
    for key in ("images_per_s", "texts_per_s", "items_per_s", "decode_images_per_s"):
        print(f"  {key:<22}{result[key]:>10.1f}")


if __name__ == "__main__":
    main()
