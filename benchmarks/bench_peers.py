"""TailLift's first stage beside LanceDB and Qdrant Edge: same items, same vectors, same titles, same filter.

    /tmp/benchvenv/bin/pip install -r requirements-bench.txt     # peers only; not needed by the app
    HF_HUB_OFFLINE=1 nice -n 10 python benchmarks/bench_peers.py --items 40000 [--json] [--engines taillift,lancedb]

Catalog: ``recsys.catalog.synthetic`` (SYNTHETIC: speed and memory only, no quality is claimed on it), vectors
drawn around real MiniLM text-route vectors of real fashion titles (cached, as in bench_scale.py). Every engine
gets the same float32 vectors, the same ``title`` text for its own BM25, and the same filter (gender == Women);
the query is a held-out real title with its precomputed vector (query encoding is excluded for every engine).
Each engine runs in its own spawned subprocess: ``build_s`` is the time to load and index everything,
``rss_mb`` the subprocess's peak RSS minus its RSS before the build (catalog arrays excluded), p50/p95 the
latency of one hybrid filtered top-10 query (dense top-100 + BM25 top-100, RRF), ``cpu_ms`` the process's CPU
time per query over all its threads (above the latency: the engine searched on several cores at once).

TailLift's speed columns are its first stage (``VectorIndex`` + ``SegmentedBM25`` + RRF, as the service runs it),
so ``first_stage_p95_ms`` equals its ``p95_ms``. ``--quality`` adds the quality columns on REAL data
(``benchmarks/peer_corpora.py``):
``fashion_r10`` (fashion title->item, TailLift's fused vectors given to every engine) and ``crowdflower_ndcg10``
(the suite's held-out queries, MiniLM vectors, each query filtered to its judged rows). A peer's figure is its own
hybrid; TailLift's is its full pipeline on that suite (fashion: the suite's fused ranking; CrowdFlower: the
LightGBM ranker), with its first-stage hybrid, asked exactly as the peers are, beside it (``*_first_stage``).
The speed pass needs no real data; ``--items 0 --quality`` runs the quality columns alone.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import queue
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from benchmarks import peer_corpora
from benchmarks.bench_scale import base_vectors
from benchmarks.peer_corpora import Corpus
from recsys.catalog.synthetic import FashionVocabulary, synthetic_catalog
from recsys.config import get_settings


def rss_now_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def taillift(corpus: Corpus, factory: str):
    from recsys.index.arrays import IdSet
    from recsys.index.hybrid import reciprocal_rank_fusion
    from recsys.index.segmented_lexical import SegmentedBM25
    from recsys.index.tokenize import Tokenizer
    from recsys.index.vector import VectorIndex
    from recsys.search.dense import refined_search

    ids = np.arange(len(corpus), dtype=np.int64)
    vec = VectorIndex(corpus.vectors.shape[1], factory)
    vec.build(ids, corpus.vectors)
    lex = SegmentedBM25.build(ids, corpus.texts, tokenizer=Tokenizer(corpus.stemmer))  # the service's BM25
    names, codes = np.unique(corpus.groups, return_inverse=True)
    code_of = {str(g): c for c, g in enumerate(names)}

    kept: dict[str, IdSet] = {}

    def query(text: str, qv: np.ndarray, group: str | None) -> list[int]:
        # The filter is made from a code column on its first use and then kept, as the service's table keeps its
        # recent filters' id sets (search.filters.allowed_id_set).
        only = None if group is None else kept.get(group)
        if group is not None and only is None:
            only = kept.setdefault(group, IdSet(ids[codes == code_of.get(group, -1)]))
        # A compressed base (PQ, SQ4) is re-scored from the exact vectors (unit rows, row i is id i) as the service
        # re-scores it from its route matrices.
        dense = refined_search(vec, qv[None, :], 100, only, corpus.vectors.__getitem__)
        sparse = lex.search(text, 100, only)
        fused, _ = reciprocal_rank_fusion([(dense[1][0], dense[0][0]), (sparse[1], sparse[0])])
        return fused[:10].tolist()

    return query


def lancedb_engine(corpus: Corpus, workdir: str):
    import lancedb
    import pyarrow as pa

    dim = corpus.vectors.shape[1]
    table = pa.table(
        {
            "id": pa.array(np.arange(len(corpus), dtype=np.int64)),
            "text": pa.array(corpus.texts),
            "grp": pa.array(corpus.groups.tolist()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(corpus.vectors.reshape(-1)), dim),
        }
    )
    db = lancedb.connect(workdir)
    tbl = db.create_table("items", data=table)
    tbl.create_fts_index("text")
    tbl.create_scalar_index("grp", index_type="BITMAP")

    def query(text: str, qv: np.ndarray, group: str | None) -> list[int]:
        search = tbl.search(query_type="hybrid").vector(qv).text(text)
        if group is not None:
            search = search.where("grp = '" + group.replace("'", "''") + "'", prefilter=True)
        return search.limit(10).to_arrow().column("id").to_pylist()

    return query


def qdrant_edge_engine(corpus: Corpus, workdir: str):
    import qdrant_edge as q

    config = q.EdgeConfig(
        vectors={"dense": q.EdgeVectorParams(size=corpus.vectors.shape[1], distance=q.Distance.Dot)},
        sparse_vectors={"bm25": q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
    )
    shard = q.EdgeShard.create(workdir, config)
    shard.update(q.UpdateOperation.create_field_index("grp", q.PayloadSchemaType.Keyword))
    bm25 = q.Bm25(q.Bm25Config())
    for start in range(0, len(corpus), 2000):
        points = [
            q.Point(
                i,
                {"dense": corpus.vectors[i].tolist(), "bm25": bm25.embed_document(corpus.texts[i])},
                {"grp": str(corpus.groups[i])},
            )
            for i in range(start, min(start + 2000, len(corpus)))
        ]
        shard.update(q.UpdateOperation.upsert_points(points))
    shard.optimize()

    def query(text: str, qv: np.ndarray, group: str | None) -> list[int]:
        flt = None if group is None else q.Filter(must=[q.FieldCondition("grp", match=q.MatchValue(group))])
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


def build_engine(name: str, corpus: Corpus, workdir: str, factory: str):
    if name == "taillift":
        return taillift(corpus, factory)
    if name == "lancedb":
        return lancedb_engine(corpus, workdir)
    if name == "qdrant_edge":
        return qdrant_edge_engine(corpus, str(Path(workdir) / "shard"))
    raise ValueError(f"unknown engine {name!r}")


def speed(name: str, args: argparse.Namespace) -> dict:
    """Build time, RSS and latency on the SYNTHETIC catalog (gender filter on every query)."""
    styles = Path(args.styles)
    titles, base = base_vectors(styles, args.base_items + args.queries, Path(args.cache_dir))
    cat = synthetic_catalog(args.items, FashionVocabulary.from_styles_csv(styles), base[args.queries :], seed=1)
    corpus = peer_corpora.synthetic(cat, titles[: args.queries], base[: args.queries])
    del cat
    with tempfile.TemporaryDirectory(dir=args.cache_dir) as workdir:
        before = rss_now_mb()
        start = time.perf_counter()
        query = build_engine(name, corpus, workdir, args.factory)
        build_s = time.perf_counter() - start
        women = set(np.flatnonzero(corpus.groups == peer_corpora.SYNTHETIC_FILTER).tolist())
        asked = list(zip(corpus.query_texts, corpus.query_vectors, corpus.query_groups))
        for t, v, g in asked[:5]:  # warm-up, and the filter must hold
            if not set(query(t, v, g)) <= women:
                raise RuntimeError(f"{name}: filter not applied")
        times = []
        cpu = time.process_time()  # every thread of this process: an engine's own threads count too
        for t, v, g in asked:
            s = time.perf_counter()
            query(t, v, g)
            times.append(time.perf_counter() - s)
        cpu_ms = (time.process_time() - cpu) / len(asked) * 1e3
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50, p95 = (float(np.percentile(times, p) * 1e3) for p in (50, 95))
    return {"build_s": build_s, "rss_mb": peak - before, "p50_ms": p50, "p95_ms": p95, "cpu_ms": cpu_ms}


def top10_lists(name: str, path: Path, args: argparse.Namespace) -> list[list[int]]:
    """Each query's top 10 row ids from engine ``name``'s own hybrid over the saved corpus at ``path``."""
    corpus = peer_corpora.Corpus.load(path)
    with tempfile.TemporaryDirectory(dir=args.cache_dir) as workdir:
        query = build_engine(name, corpus, workdir, args.factory)
        return [query(t, v, g) for t, v, g in zip(corpus.query_texts, corpus.query_vectors, corpus.query_groups)]


def run_engine(name: str, args: argparse.Namespace, quality: dict[str, str], out) -> None:
    result: dict = speed(name, args) if args.items else {}
    result["top10"] = {task: top10_lists(name, Path(path), args) for task, path in quality.items()}
    out.put(result)


def in_subprocess(name: str, args: argparse.Namespace, quality: dict[str, str]) -> dict:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=run_engine, args=(name, args, quality, out))
    proc.start()
    while True:  # read before join: a large result blocks the child's queue feeder until it is read
        try:
            result = out.get(timeout=5)
            break
        except queue.Empty:
            if not proc.is_alive():
                result = {"error": f"exit code {proc.exitcode}"}
                break
    proc.join()
    return result


def prepare_quality(args: argparse.Namespace) -> tuple[dict[str, str], dict]:
    """The real corpora saved for the engines, and TailLift's own suite figures on them."""
    settings = get_settings()
    data = Path(args.data)
    cache = Path(args.cache_dir)
    fq = peer_corpora.fashion_corpus(data, settings, args.fashion_queries, args.seed)
    cq = peer_corpora.crowdflower_corpus(data, settings, args.seed)
    paths = {"fashion": str(cache / "peers_fashion.npz"), "crowdflower": str(cache / "peers_crowdflower.npz")}
    fq.corpus.save(Path(paths["fashion"]))
    cq.corpus.save(Path(paths["crowdflower"]))
    return paths, {"fashion": fq, "crowdflower": cq}


def score_quality(result: dict, suites: dict) -> dict:
    top10 = result.pop("top10", {})
    if not top10:  # the keys stay, as null, so the JSON has one shape with or without --quality
        return result | {"fashion_r10": None, "crowdflower_ndcg10": None}
    fq, cq = suites["fashion"], suites["crowdflower"]
    result["fashion_r10"] = peer_corpora.fashion_r10(top10["fashion"], fq.sample)
    result["crowdflower_ndcg10"] = peer_corpora.crowdflower_ndcg10(top10["crowdflower"], cq)
    return result


def main() -> None:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=40_000, help="synthetic items for the speed columns (0: none)")
    p.add_argument("--engines", default="taillift,lancedb,qdrant_edge")
    p.add_argument("--factory", default=s.index_factory, help="TailLift's FAISS factory (RECSYS_INDEX_FACTORY)")
    p.add_argument("--styles", default=str(s.demo_dir / "styles.csv"))
    p.add_argument("--base-items", type=int, default=3000)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--quality", action="store_true", help="also the quality columns on the real suites (--data)")
    p.add_argument("--data", default="../shared/data", help="the real data: fashion/ and crowdflower/")
    p.add_argument("--fashion-queries", type=int, default=2000, help="titles asked of every engine (seeded sample)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "taillift-bench-cache"))
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    quality, suites = prepare_quality(args) if args.quality else ({}, {})
    engines = {name: score_quality(in_subprocess(name, args, quality), suites) for name in args.engines.split(",")}
    if "taillift" in engines and "error" not in engines["taillift"]:
        tl = engines["taillift"]
        tl["first_stage_p95_ms"] = tl.get("p95_ms")  # this script's TailLift is its first stage
        if suites:  # the full pipeline on each suite, beside the first stage's hybrid measured like the peers'
            tl["fashion_r10_first_stage"] = tl.pop("fashion_r10")
            tl["crowdflower_ndcg10_first_stage"] = tl.pop("crowdflower_ndcg10")
            tl["fashion_r10"] = peer_corpora.fashion_r10(
                exact_top10(suites["fashion"].corpus), suites["fashion"].sample
            )
            tl["crowdflower_ndcg10"] = suites["crowdflower"].ranker_ndcg10
    if args.json:
        obj = {"items": args.items, "synthetic": bool(args.items), "engines": engines}
        print(json.dumps(obj | quality_notes(suites)))
        return
    print_tables(args, engines, suites)


def exact_top10(corpus: peer_corpora.Corpus) -> list[list[int]]:
    """The fashion suite's own ranking (``taillift_fused``: exact cosine of fused vectors) for the asked titles."""
    scores = corpus.query_vectors @ corpus.vectors.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :10].tolist()


def quality_notes(suites: dict) -> dict:
    if not suites:
        return {}
    fq, cq = suites["fashion"], suites["crowdflower"]
    return {
        "quality": {
            "fashion": {
                "corpus_items": len(fq.corpus),
                "queries": len(fq.sample),
                "heads_version": fq.version,
                "suite_r10_all_queries": fq.suite_r10,
            },
            "crowdflower": {
                "corpus_rows": len(cq.corpus),
                "queries": len(cq.corpus.query_texts),
                "rows_scored": len(cq.rows),
            },
        }
    }


def print_tables(args: argparse.Namespace, engines: dict, suites: dict) -> None:
    def cell(value, fmt: str) -> str:
        width = int(fmt.split(".")[0])
        return format(value, fmt) if isinstance(value, (int, float)) else "-".rjust(width)

    if args.items:
        print(f"SYNTHETIC catalog, {args.items} items; hybrid (dense+BM25, RRF) top-10 with a filter (gender)")
    head = f"{'engine':<13}{'build s':>9}{'RSS MB':>9}{'p50 ms':>9}{'p95 ms':>9}{'CPU ms':>9}"
    print(f"{head}{'fashion R@10':>14}{'CF nDCG@10':>12}")
    for name, r in engines.items():
        if "error" in r:
            print(f"{name:<13}{r['error']}")
            continue
        row = f"{name:<13}{cell(r.get('build_s'), '9.1f')}{cell(r.get('rss_mb'), '9.0f')}"
        row += f"{cell(r.get('p50_ms'), '9.1f')}{cell(r.get('p95_ms'), '9.1f')}{cell(r.get('cpu_ms'), '9.1f')}"
        row += f"{cell(r.get('fashion_r10'), '14.3f')}{cell(r.get('crowdflower_ndcg10'), '12.3f')}"
        print(row)
        if "fashion_r10_first_stage" in r:
            first = f"{cell(r['fashion_r10_first_stage'], '14.3f')}{cell(r['crowdflower_ndcg10_first_stage'], '12.3f')}"
            print(f"{'  first stage':<58}{first}")
    if suites:
        fq, cq = suites["fashion"], suites["crowdflower"]
        print(
            f"quality (REAL data): fashion title->item, {len(fq.sample)} titles over {len(fq.corpus)} untitled "
            f"items; CrowdFlower, {len(cq.corpus.query_texts)} held-out queries, each filtered to its judged rows "
            f"({len(cq.corpus)} indexed)"
        )
        print(
            "taillift row: its full pipeline (fashion: the suite's fused dense ranking; CrowdFlower: the LightGBM "
            "ranker)"
        )


if __name__ == "__main__":
    main()
