"""Search latency through the service layer, and import/encode throughput, on the real fashion catalog.

    python benchmarks/bench_search.py --items 5000 --data-dir /tmp/bench5k
    python benchmarks/bench_search.py --items 40000 --data-dir /tmp/bench40k [--train-ranker] [--no-chinese]

The first run imports and encodes (timed: the encode throughput); later runs reuse the data dir. Query latency is
measured warm (after 5 warm-up queries), medians and p95 over real product-title-style queries, in English and
(unless --no-chinese) the same queries in Chinese, served through the multilingual route: the serving version's
multilingual head is fitted first when it has none (timed), as the app does in the background. --train-ranker
trains the catalog ranker when none is served yet (timed), so the rows measure the ranker the app would serve.
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import statistics
import sys
import time
import zipfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from recsys.accounts.principal import SYSTEM
from recsys.config import REPO_ROOT, Settings
from recsys.encoders.multilingual_head_store import load_head
from recsys.search.types import SearchRequest
from recsys.service.taillift import TailLiftService

QUERIES = [
    "navy blue casual shirt",
    "black leather wallet",
    "women red dress",
    "white sports shoes",
    "analog watch men",
    "floral print kurta",
    "blue jeans",
    "grey sweatshirt",
    "pink handbag",
    "sunglasses",
    "striped polo tshirt",
    "gold earrings",
    "formal black shoes",
    "yellow top",
    "track pants",
    "backpack",
    "green saree",
    "belt",
    "perfume",
    "kids tshirt",
]

# The same queries as a Chinese shopper would type them (one per English query above).
CHINESE_QUERIES = [
    "藏青色休闲衬衫",
    "黑色真皮钱包",
    "女士红色连衣裙",
    "白色运动鞋",
    "男士指针手表",
    "印花库尔塔",
    "蓝色牛仔裤",
    "灰色卫衣",
    "粉色手提包",
    "太阳镜",
    "条纹polo衫",
    "金色耳环",
    "黑色正装鞋",
    "黄色上衣",
    "运动裤",
    "双肩包",
    "绿色纱丽",
    "腰带",
    "香水",
    "儿童T恤",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--fashion", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "fashion")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-ranker", action="store_true", help="train the catalog ranker if none is served")
    parser.add_argument("--no-chinese", action="store_true", help="skip the Chinese queries (and the head fit)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env({"data_dir": args.data_dir, "demo_limit": 0})
    service = TailLiftService(settings)
    if service.stats()["items"] == 0:
        started = time.perf_counter()
        report = service.import_bundle(
            SYSTEM, args.fashion / "styles.csv", args.fashion / "images.zip", preset="fashion", limit=args.items
        )
        print(f"import: {report.summary()} -> {report.added / (time.perf_counter() - started):.0f} items/s")
    started = time.perf_counter()
    service.load_models()
    load_s = time.perf_counter() - started
    n = service.stats()["items"]
    print(f"load_models (train heads if needed + encode missing + build index): {load_s:.1f} s for {n} items")
    if args.train_ranker and service.engine.ranking.version == "fallback":
        started = time.perf_counter()
        job = service.retrain_ranker(SYSTEM)
        job.wait()
        print(f"catalog ranker: {job.status}, {job.message} ({time.perf_counter() - started:.0f} s)")
    print(f"ranker served: {service.engine.ranking.version}")
    chinese = not args.no_chinese
    if chinese and service.serving_encoder_version() is None:
        print("no trained encoder version is served (nothing to fit a multilingual head to): Chinese row skipped")
        chinese = False
    if chinese and load_head(settings, service.serving_encoder_version(), settings.multilingual_text_model) is None:
        started = time.perf_counter()
        fit = service.fit_multilingual_head(SYSTEM)
        print(f"multilingual head fitted on {fit.metrics['fit_pairs']} items: {time.perf_counter() - started:.0f} s")

    with zipfile.ZipFile(args.fashion / "images.zip") as zf:
        names = random.Random(0).sample(zf.namelist(), 20)
        images = [Image.open(io.BytesIO(zf.read(name))).convert("RGB") for name in names]
    for q in QUERIES[:5] + (CHINESE_QUERIES[:5] if chinese else []):
        service.search(SearchRequest(text=q, log=False))
    text_ms, zh_ms, image_ms, both_ms = [], [], [], []
    for _ in range(args.repeats):
        for q in QUERIES:
            text_ms.append(service.search(SearchRequest(text=q, log=False)).latency_ms)
        for q in CHINESE_QUERIES if chinese else []:
            zh_ms.append(service.search(SearchRequest(text=q, log=False)).latency_ms)
        for img in images:
            image_ms.append(service.search(SearchRequest(image=img, log=False)).latency_ms)
        for q, img in zip(QUERIES, images):
            both_ms.append(service.search(SearchRequest(text=q, image=img, log=False)).latency_ms)
    rows = (("text", text_ms), ("text (zh)", zh_ms), ("image", image_ms), ("text+image", both_ms))
    for name, values in [(name, values) for name, values in rows if values]:
        print(
            f"{name:>10} query over {n} items: p50 {statistics.median(values):6.1f} ms  "
            f"p95 {pct(values, 0.95):6.1f} ms  (n={len(values)})"
        )

    # Encode throughput of the item path (images + texts), on items already in the catalog.
    from recsys.search.indexing import item_contents

    ids = [i.id for i in service.browse(page=1).items][:24] * 4
    _, contents = item_contents(service.store, ids)
    runs = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        service.engine.encoder.encode_items(contents)
        runs.append(len(contents) / (time.perf_counter() - started))
    print(f"encode_items throughput: median {statistics.median(runs):.1f} items/s (batch {len(contents)})")
    service.close()


if __name__ == "__main__":
    main()
