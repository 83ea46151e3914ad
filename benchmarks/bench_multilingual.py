"""Multilingual text routes: query-encoding latency and cross-lingual dense retrieval on held-out fashion items.

    HF_HUB_OFFLINE=1 nice -n 10 python benchmarks/bench_multilingual.py --limit 2000 --search-items 40000

Items: held-out fashion rows (recsys.splits.is_holdout), a hashed sample of ``--limit``, indexed by their English
titles. Queries: recsys/evaluation/data/bilingual_queries.json, each in English and Chinese; relevance from the
catalog's attributes (recsys.evaluation.bilingual.relevant_mask), so nobody grades by hand. Dense route only (no
BM25, no query understanding): this isolates what the text model itself contributes. MiniLM is the baseline run
in the same process. Latency: one query at a time (median, p95) and batch throughput; "search" adds a brute-force
dot product over ``--search-items`` unit vectors, the dense part of a warm text search.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from types import SimpleNamespace
from typing import Any

import numpy as np

from recsys.config import Settings
from recsys.encoders.multilingual import MULTILINGUAL_MODELS, MultilingualTextEncoder
from recsys.encoders.text import TextEncoder
from recsys.evaluation import bilingual, fashion_data
from recsys.splits import is_holdout

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


class _MiniLM:
    def __init__(self) -> None:
        self.model = TextEncoder(MINILM, "cpu")
        self.dim = self.model.dim

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts)

    def encode_items(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts)


def quality(encoder, titles: list[str], table: Any, queries) -> dict[str, tuple[float, float]]:
    # table: leaf/colour/gender arrays, the ItemTable fields relevant_mask reads
    items = encoder.encode_items(titles)
    out = {}
    for lang in bilingual.LANGUAGES:
        vectors = encoder.encode_queries([q.text[lang] for q in queries])
        precisions, ndcgs = [], []
        for q, v in zip(queries, vectors, strict=True):
            relevant = bilingual.relevant_mask(q, table)
            if not relevant.any():
                continue
            top = np.argsort(-(items @ v))[: bilingual.K]
            p, n = bilingual.precision_ndcg(relevant[top].tolist(), int(relevant.sum()))
            precisions.append(p)
            ndcgs.append(n)
        out[lang] = (float(np.mean(precisions)), float(np.mean(ndcgs)))
    return out


def latency(encoder, texts: list[str], bank: np.ndarray) -> dict[str, float]:
    single, search = [], []
    for text in texts:
        t0 = time.perf_counter()
        v = encoder.encode_queries([text])[0]
        t1 = time.perf_counter()
        np.argpartition(-(bank[:, : v.shape[0]] @ v), 10)[:10]
        t2 = time.perf_counter()
        single.append((t1 - t0) * 1000)
        search.append((t2 - t0) * 1000)
    batch = texts * 4
    t0 = time.perf_counter()
    encoder.encode_queries(batch)
    per_s = len(batch) / (time.perf_counter() - t0)
    p95 = lambda xs: float(np.percentile(xs, 95))  # noqa: E731
    return {
        "enc_p50": statistics.median(single),
        "enc_p95": p95(single),
        "search_p50": statistics.median(search),
        "search_p95": p95(search),
        "batch_per_s": per_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--search-items", type=int, default=40000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--latency-only", action="store_true", help="skip the retrieval quality columns (fast)")
    args = parser.parse_args()
    rows = fashion_data.read_rows(fashion_data.suite_dir(Settings().demo_dir))
    rows = fashion_data.sample(rows[rows["id"].map(is_holdout)], args.limit)
    titles = rows["productDisplayName"].tolist()
    table = SimpleNamespace(
        leaf=rows["articleType"].to_numpy(), colour=rows["baseColour"].to_numpy(), gender=rows["gender"].to_numpy()
    )
    queries = bilingual.load_queries()
    bank = np.random.default_rng(0).standard_normal((args.search_items, 512)).astype(np.float32)
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    texts = [q.text[lang] for q in queries for lang in bilingual.LANGUAGES]
    print(f"items={len(titles)} queries={len(queries)} x {bilingual.LANGUAGES} load={os.getloadavg()[0]:.1f}")
    print("model | en P@10 nDCG@10 | zh P@10 nDCG@10 | enc p50/p95 ms | search@N p50/p95 ms | batch q/s")
    for name in (MINILM, *MULTILINGUAL_MODELS):
        encoder = _MiniLM() if name == MINILM else MultilingualTextEncoder(name, threads=args.threads)
        nan = (float("nan"), float("nan"))
        q = {"en": nan, "zh": nan} if args.latency_only else quality(encoder, titles, table, queries)
        lat = latency(encoder, texts, bank)
        print(
            f"{name} | {q['en'][0]:.3f} {q['en'][1]:.3f} | {q['zh'][0]:.3f} {q['zh'][1]:.3f} | "
            f"{lat['enc_p50']:.1f}/{lat['enc_p95']:.1f} | {lat['search_p50']:.1f}/{lat['search_p95']:.1f} | "
            f"{lat['batch_per_s']:.0f}"
        )


if __name__ == "__main__":
    main()
