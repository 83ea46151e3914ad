"""Opinion index timings on the real reviews: classify every review (vectors cached after the first run), then add
single reviews one at a time (the incremental path a posted review takes). Prints seconds; the first added review
also loads MiniLM, so the median of the rest is the steady cost.

    RECSYS_DATA_DIR=/tmp/op-data HF_HUB_OFFLINE=1 PYTHONPATH=. python benchmarks/bench_opinions.py
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

import pandas as pd

from recsys.config import get_settings
from recsys.opinions.index import OpinionIndex
from recsys.opinions.mentions import ReviewText
from recsys.service.catalog import CatalogService
from recsys.service.opinions import Opinions

NEW_REVIEWS = [
    ("Runs small", "I had to size up twice. Lovely colour though."),
    ("Pilled", "It pilled after two washes and the seams split."),
    ("Soft", "The knit is soft but the sleeves are oddly long."),
    ("Late", "The package arrived a week late and crushed."),
    ("Great value", "Worth every penny, I bought it on sale."),
    ("Itchy", "Scratchy wool, I cannot wear it without a layer."),
]


def main() -> None:
    settings = get_settings()
    opinions = Opinions(CatalogService(settings).store, settings)
    start = time.perf_counter()
    model = opinions.model()
    print(f"model load or train: {time.perf_counter() - start:.1f} s ({model.metrics.get('trained_on')})")
    frame = pd.read_csv(settings.demo_reviews_path)
    now = datetime.now(UTC)
    reviews = [
        ReviewText(k, int(r["Clothing ID"]), int(r["Rating"]), str(r["Title"] or ""), str(r["Review Text"] or ""), now)
        for k, r in enumerate(frame.fillna("").to_dict("records"))
    ]
    index = OpinionIndex(model, opinions.aspects, opinions.vectors)
    start = time.perf_counter()
    index.add_reviews(reviews)
    print(f"classify {len(reviews)} reviews: {time.perf_counter() - start:.1f} s, {len(index.mentions())} mentions")
    stamp = int(time.time() * 1000)  # new review ids and texts each run, so nothing is cached
    seconds = []
    for k, (title, text) in enumerate(NEW_REVIEWS):
        start = time.perf_counter()
        index.add_reviews([ReviewText(10**9 + k, 1078, 2, title, f"{text} ({stamp})", now)])
        seconds.append(time.perf_counter() - start)
    print(
        f"add one review: first {seconds[0]:.3f} s (loads MiniLM), median of the rest "
        f"{statistics.median(seconds[1:]):.3f} s"
    )


if __name__ == "__main__":
    main()
