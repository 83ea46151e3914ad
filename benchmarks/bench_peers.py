"""TailLift's first stage beside LanceDB and Qdrant Edge: same items, same vectors, same titles, same filter.

    /tmp/benchvenv/bin/pip install -r requirements-bench.txt     # peers only; not needed by the app
    HF_HUB_OFFLINE=1 nice -n 10 python benchmarks/bench_peers.py --items 40000 [--json] [--engines taillift,lancedb]

Catalog: ``recsys.catalog.synthetic`` (SYNTHETIC: speed and memory only, no quality is claimed on it), vectors
drawn around real MiniLM text-route vectors of real fashion titles (cached, as in bench_scale.py). Every engine
gets the same float32 vectors, the same ``title`` text for its own BM25, and the same filter (gender == Women);
the query is a held-out real title with its precomputed vector (query encoding is excluded for every engine).
Each engine runs in its own spawned subprocess: ``build_s`` is the time to load and index everything,
``rss_mb`` the subprocess's peak RSS minus its RSS before the build (catalog arrays excluded), p50/p95 the
latency of one hybrid filtered top-10 query (dense top-100 + BM25 top-100, RRF).

TailLift here is its first stage (``VectorIndex`` + ``BM25Index`` + RRF), so ``first_stage_p95_ms`` equals its
``p95_ms``; the full pipeline (ranker) and the quality suites (``fashion_r10``, ``crowdflower_ndcg10``) are
not measured by this script yet and are reported as null.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from benchmarks.bench_scale import base_vectors
from recsys.catalog.synthetic import FashionVocabulary, SyntheticCatalog, synthetic_catalog
from recsys.config import get_settings

FILTER_GENDER = "Women"


def rss_now_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def taillift(cat: SyntheticCatalog, factory: str):
    from recsys.index.hybrid import reciprocal_rank_fusion
    from recsys.index.lexical import BM25Index
    from recsys.index.vector import VectorIndex

    vec = VectorIndex(cat.vectors.shape[1], factory)
    vec.build(cat.ids, cat.vectors)
    lex = BM25Index()
    lex.build(cat.ids, cat.titles)
    allowed = cat.ids[cat.attributes["gender"] == FILTER_GENDER]

    def query(text: str, qv: np.ndarray) -> list[int]:
        dense = vec.search(qv[None, :], 100, allowed)
        sparse = lex.search(text, 100, allowed)
        ids, _ = reciprocal_rank_fusion([(dense[1][0], dense[0][0]), (sparse[1], sparse[0])])
        return ids[:10].tolist()

    return query


def lancedb_engine(cat: SyntheticCatalog, workdir: str):
    import lancedb
    import pyarrow as pa

    dim = cat.vectors.shape[1]
    table = pa.table(
        {
            "id": pa.array(cat.ids),
            "title": pa.array(cat.titles),
            "gender": pa.array(cat.attributes["gender"].astype(str)),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(cat.vectors.reshape(-1)), dim),
        }
    )
    db = lancedb.connect(workdir)
    tbl = db.create_table("items", data=table)
    tbl.create_fts_index("title")
    tbl.create_scalar_index("gender", index_type="BITMAP")
    where = f"gender = '{FILTER_GENDER}'"

    def query(text: str, qv: np.ndarray) -> list[int]:
        res = tbl.search(query_type="hybrid").vector(qv).text(text).where(where, prefilter=True).limit(10).to_arrow()
        return res.column("id").to_pylist()

    return query


def qdrant_edge_engine(cat: SyntheticCatalog, workdir: str):
    import qdrant_edge as q

    config = q.EdgeConfig(
        vectors={"dense": q.EdgeVectorParams(size=cat.vectors.shape[1], distance=q.Distance.Dot)},
        sparse_vectors={"bm25": q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
    )
    shard = q.EdgeShard.create(workdir, config)
    shard.update(q.UpdateOperation.create_field_index("gender", q.PayloadSchemaType.Keyword))
    bm25 = q.Bm25(q.Bm25Config())
    gender = cat.attributes["gender"]
    for start in range(0, len(cat), 2000):
        points = [
            q.Point(
                int(i),
                {"dense": cat.vectors[i].tolist(), "bm25": bm25.embed_document(cat.titles[i])},
                {"gender": str(gender[i])},
            )
            for i in range(start, min(start + 2000, len(cat)))
        ]
        shard.update(q.UpdateOperation.upsert_points(points))
    shard.optimize()
    flt = q.Filter(must=[q.FieldCondition("gender", match=q.MatchValue(FILTER_GENDER))])

    def query(text: str, qv: np.ndarray) -> list[int]:
        req = q.QueryRequest(
            limit=10,
            prefetches=[
                q.Prefetch(100, query=q.Query.Nearest(qv.tolist(), using="dense"), filter=flt),
                q.Prefetch(100, query=q.Query.Nearest(bm25.embed_query(text), using="bm25"), filter=flt),
            ],
            query=q.Fusion.Rrf(60),  # k = 60, as TailLift's RRF
        )
        return [int(p.id) for p in shard.query(req)]

    return query


def run_engine(name: str, args: argparse.Namespace, out) -> None:
    styles = Path(args.styles)
    titles, base = base_vectors(styles, args.base_items + args.queries, Path(args.cache_dir))
    cat = synthetic_catalog(args.items, FashionVocabulary.from_styles_csv(styles), base[args.queries :], seed=1)
    q_titles, q_vecs = titles[: args.queries], base[: args.queries]
    with tempfile.TemporaryDirectory(dir=args.cache_dir) as workdir:
        before = rss_now_mb()
        start = time.perf_counter()
        if name == "taillift":
            query = taillift(cat, args.factory)
        elif name == "lancedb":
            query = lancedb_engine(cat, workdir)
        elif name == "qdrant_edge":
            query = qdrant_edge_engine(cat, str(Path(workdir) / "shard"))
        else:
            raise ValueError(f"unknown engine {name!r}")
        build_s = time.perf_counter() - start
        women = set(cat.ids[cat.attributes["gender"] == FILTER_GENDER].tolist())
        for t, v in zip(q_titles[:5], q_vecs[:5]):  # warm-up, and the filter must hold
            if not set(query(t, v)) <= women:
                raise RuntimeError(f"{name}: filter not applied")
        times = []
        for t, v in zip(q_titles, q_vecs):
            s = time.perf_counter()
            query(t, v)
            times.append(time.perf_counter() - s)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50, p95 = (float(np.percentile(times, p) * 1e3) for p in (50, 95))
    out.put(
        {
            "build_s": build_s,
            "rss_mb": peak - before,
            "p50_ms": p50,
            "p95_ms": p95,
            "first_stage_p95_ms": p95 if name == "taillift" else None,
            "fashion_r10": None,
            "crowdflower_ndcg10": None,
        }
    )


def main() -> None:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=40_000)
    p.add_argument("--engines", default="taillift,lancedb,qdrant_edge")
    p.add_argument("--factory", default=s.index_factory, help="TailLift's FAISS factory (RECSYS_INDEX_FACTORY)")
    p.add_argument("--styles", default=str(s.demo_dir / "styles.csv"))
    p.add_argument("--base-items", type=int, default=3000)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "taillift-bench-cache"))
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    ctx = mp.get_context("spawn")
    engines: dict[str, dict] = {}
    for name in args.engines.split(","):
        out = ctx.Queue()
        proc = ctx.Process(target=run_engine, args=(name, args, out))
        proc.start()
        proc.join()
        engines[name] = out.get() if proc.exitcode == 0 else {"error": f"exit code {proc.exitcode}"}
    if args.json:
        print(json.dumps({"items": args.items, "synthetic": True, "engines": engines}))
        return
    print(f"SYNTHETIC catalog, {args.items} items; hybrid (dense+BM25, RRF) top-10 with a filter (gender)")
    print(f"{'engine':<13}{'build s':>9}{'RSS MB':>9}{'p50 ms':>9}{'p95 ms':>9}")
    for name, r in engines.items():
        if "error" in r:
            print(f"{name:<13}{r['error']}")
        else:
            print(f"{name:<13}{r['build_s']:>9.1f}{r['rss_mb']:>9.0f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}")


if __name__ == "__main__":
    main()
