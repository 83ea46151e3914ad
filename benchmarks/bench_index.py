"""Recall-layer benchmark: build time and single-query latency of Flat / HNSW / IVF, plus BM25.

    python benchmarks/bench_index.py                       # dim 896 (512 image + 384 text), 5k and 40k items
    python benchmarks/bench_index.py --dim 512 --sizes 5000 --queries 100

Vectors are clustered Gaussians (closer to real embeddings than uniform noise). Latency is measured per
single query (the serving pattern), p50/p95 over ``--queries``, and each figure is the median over
``--repeats`` runs. Recall@k and latency ratios are against Flat in the same process. The filter case
allows a random ``--filter-frac`` of the catalog. BM25 uses productDisplayName from the shared fashion
styles.csv when present (read in place), else synthetic titles.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from recsys.config import get_settings
from recsys.index.lexical import BM25Index
from recsys.index.vector import VectorIndex

WORDS = (
    "men women kids blue black white red green navy grey pink cotton denim leather casual formal slim fit "
    "printed striped checked solid round neck polo shirt tshirt jeans dress skirt shoes sandals heels watch "
    "bag wallet belt jacket kurta top shorts trousers socks cap sunglasses sports running"
).split()


def clustered(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.normal(size=(max(n // 100, 8), dim)).astype(np.float32)
    return centres[rng.integers(0, len(centres), n)] + 0.5 * rng.normal(size=(n, dim)).astype(np.float32)


def ivf_factory(n: int) -> str:
    # Largest power of two with >= 39 training points per list, capped at 1024 (the Settings example).
    nlist = 2 ** int(math.log2(max(n // 39, 1)))
    return f"IVF{min(nlist, 1024)},Flat"


def latency(fn, queries: np.ndarray, repeats: int) -> tuple[float, float]:
    p50s, p95s = [], []
    for _ in range(repeats):
        times = []
        for q in queries:
            start = time.perf_counter()
            fn(q)
            times.append(time.perf_counter() - start)
        p50s.append(np.percentile(times, 50))
        p95s.append(np.percentile(times, 95))
    return float(np.median(p50s)) * 1e3, float(np.median(p95s)) * 1e3


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a[a >= 0]) & set(b[b >= 0])) / max((b >= 0).sum(), 1) for a, b in zip(found, truth)]))


def bench_vectors(n: int, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(n)
    x = clustered(n, args.dim, rng)
    ids = np.arange(n, dtype=np.int64)
    queries = x[rng.choice(n, args.queries, replace=False)] + 0.3 * rng.normal(size=(args.queries, args.dim)).astype(
        np.float32
    )
    allowed = rng.choice(ids, max(int(n * args.filter_frac), 1), replace=False)
    print(
        f"\n== {n} items, dim {args.dim}, k {args.k}, {args.queries} queries x {args.repeats} runs, "
        f"filter {args.filter_frac:.0%}"
    )
    print(
        f"{'factory':<14}{'build s':>9}{'recall':>8}{'p50 ms':>9}{'p95 ms':>9}{'x Flat':>8}"
        f"{'f-recall':>9}{'f-p50':>8}{'f-p95':>8}{'x Flat':>8}"
    )
    base = None
    for factory in ["Flat", args.hnsw, ivf_factory(n)]:
        index = VectorIndex(args.dim, factory)
        start = time.perf_counter()
        index.build(ids, x)
        build = time.perf_counter() - start
        found = index.search(queries, args.k)[1]
        found_f = index.search(queries, args.k, allowed_ids=allowed)[1]
        plain = latency(lambda q, index=index: index.search(q[None], args.k), queries, args.repeats)
        filt = latency(lambda q, index=index: index.search(q[None], args.k, allowed_ids=allowed), queries, args.repeats)
        if base is None:
            base = (found, found_f, plain[0], filt[0])
        label = factory if index.effective_factory == factory else f"{factory}->Flat"
        print(
            f"{label:<14}{build:>9.2f}{recall(found, base[0]):>8.3f}{plain[0]:>9.3f}{plain[1]:>9.3f}"
            f"{plain[0] / base[2]:>8.2f}{recall(found_f, base[1]):>9.3f}{filt[0]:>8.3f}{filt[1]:>8.3f}"
            f"{filt[0] / base[3]:>8.2f}"
        )


def titles(n: int) -> tuple[list[str], str]:
    """productDisplayName of the shared fashion catalog (read in place), topped up with synthetic titles."""
    names: list[str] = []
    path = get_settings().demo_dir / "styles.csv"
    if path.is_file():
        with open(path, newline="", encoding="utf-8", errors="replace") as fh:
            names = [t for row in csv.DictReader(fh) if (t := row.get("productDisplayName") or "").strip()][:n]
    rng = np.random.default_rng(0)
    synthetic = [" ".join(rng.choice(WORDS, rng.integers(3, 8))) for _ in range(n - len(names))]
    return names + synthetic, f"{len(names)} from styles.csv + {len(synthetic)} synthetic"


def bench_bm25(n: int, args: argparse.Namespace) -> None:
    texts, source = titles(n)
    rng = np.random.default_rng(1)
    index = BM25Index()
    start = time.perf_counter()
    index.build(np.arange(len(texts)), texts)
    build = time.perf_counter() - start
    queries = [" ".join(texts[i].split()[1:3]) for i in rng.choice(len(texts), args.queries, replace=False)]
    allowed = rng.choice(len(texts), max(int(len(texts) * args.filter_frac), 1), replace=False)
    plain = latency(lambda q: index.search(q, args.k), queries, args.repeats)
    filt = latency(lambda q: index.search(q, args.k, allowed_ids=allowed), queries, args.repeats)
    print(f"\n== BM25 over {len(texts)} titles ({source}), stemmer {index.tokenizer.stemmer}")
    print(
        f"build {build:.2f} s | search p50 {plain[0]:.3f} ms p95 {plain[1]:.3f} ms "
        f"| filtered p50 {filt[0]:.3f} ms p95 {filt[1]:.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dim", type=int, default=896, help="vector dim (512 image + 384 text = 896)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000, 40000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--filter-frac", type=float, default=0.1)
    parser.add_argument("--hnsw", default="HNSW32")
    parser.add_argument("--bm25-items", type=int, default=40000)
    parser.add_argument("--threads", type=int, default=2, help="FAISS OpenMP threads")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    print(f"faiss {faiss.__version__}, {args.threads} threads")
    for n in args.sizes:
        bench_vectors(n, args)
    if args.bm25_items:
        bench_bm25(args.bm25_items, args)


if __name__ == "__main__":
    main()
