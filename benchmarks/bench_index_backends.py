"""The two index engines behind ``IndexBackend`` on the same real items: agreement and query time.

Items are the first ``--items`` fashion products (styles.csv titles, MiniLM title vectors); queries are the titles
of the next ``--queries`` products (held out of the index), each searched dense, BM25 and hybrid, with and without a
payload filter on the query item's gender.
Prints, per mode, the overlap of the two engines' top 10 (|A & B| / 10, mean) and each engine's p50/p95 per query.
Both engines run in this process: Qdrant in qdrant-client's local mode (pure Python, for tests; a Qdrant server is a
different engine, written in Rust), so its times say nothing about a server's.

    HF_HUB_OFFLINE=1 nice -n 10 python benchmarks/bench_index_backends.py --items 3000 --queries 100
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from recsys.config import Settings
from recsys.encoders.text import TextEncoder
from recsys.index.backend import PayloadFilter
from recsys.index.engines import make_backend

MODES = ("dense", "bm25", "hybrid")


def _rows(path: Path, n: int) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("productDisplayName")]
    return rows[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = Settings.from_env()
    rows = _rows(settings.demo_dir / "styles.csv", args.items + args.queries)
    items, queries = rows[: args.items], rows[args.items :]
    encoder = TextEncoder(device="cpu")
    titles = [r["productDisplayName"] for r in rows]
    vectors = encoder.encode(titles)
    ids = np.array([int(r["id"]) for r in items], dtype=np.int64)
    payloads = [{"gender": r["gender"], "colour": r["baseColour"], "type": r["articleType"]} for r in items]
    engines = {}
    for name in ("faiss", "qdrant"):
        engine = make_backend(settings.replace(index_backend=name, qdrant_url=":memory:"), vectors.shape[1])
        start = time.perf_counter()
        engine.add(ids, vectors[: len(items)], titles[: len(items)], payloads)
        engine.lexical(titles[0], 1)  # the embedded BM25 builds lazily, at its first query: part of the build
        engines[name] = (engine, time.perf_counter() - start)
    out: dict[str, dict] = {"items": len(items), "queries": len(queries), "build_s": {}, "modes": {}}
    for name, (_, seconds) in engines.items():
        out["build_s"][name] = round(seconds, 2)
    for filtered in (False, True):
        for mode in MODES:
            tops: dict[str, list[set[int]]] = {name: [] for name in engines}
            scores: dict[str, list[np.ndarray]] = {name: [] for name in engines}
            times: dict[str, list[float]] = {name: [] for name in engines}
            for row, q in zip(queries, vectors[len(items) :]):
                where = PayloadFilter(match={"gender": [row["gender"]]}) if filtered else None
                text = row["productDisplayName"]
                for name, (engine, _) in engines.items():
                    start = time.perf_counter()
                    if mode == "dense":
                        got, found = engine.search(q, 10, where)
                    elif mode == "bm25":
                        got, found = engine.lexical(text, 10, where)
                    else:
                        found, got = engine.hybrid(q, text, 10, where)
                    scores[name].append(np.asarray(got, dtype=np.float64))
                    times[name].append((time.perf_counter() - start) * 1000)
                    tops[name].append({int(i) for i in found if i >= 0})
            overlap = [len(a & b) / 10 for a, b in zip(tops["faiss"], tops["qdrant"])]
            # The same ten scores in order: the lists differ at most in which of equally scored items they keep.
            same = [
                a.shape == b.shape and np.allclose(a, b, atol=1e-4) for a, b in zip(scores["faiss"], scores["qdrant"])
            ]
            key = f"{mode}{' + filter' if filtered else ''}"
            out["modes"][key] = {
                "top10_overlap": round(statistics.fmean(overlap), 3),
                "same_scores": round(statistics.fmean(same), 3),
                **{f"{name}_p50_ms": round(statistics.median(t), 2) for name, t in times.items()},
                **{f"{name}_p95_ms": round(float(np.percentile(t, 95)), 2) for name, t in times.items()},
            }
    for engine, _ in engines.values():
        engine.close()
    if args.json:
        print(json.dumps(out))
        return
    print(f"{out['items']} items, {out['queries']} held-out title queries; build s: {out['build_s']}")
    print(f"{'mode':<18}{'top10 overlap':>14}{'same scores':>12}{'faiss p50/p95 ms':>20}{'qdrant p50/p95 ms':>20}")
    for key, m in out["modes"].items():
        faiss_t = f"{m['faiss_p50_ms']}/{m['faiss_p95_ms']}"
        qdrant_t = f"{m['qdrant_p50_ms']}/{m['qdrant_p95_ms']}"
        print(f"{key:<18}{m['top10_overlap']:>14}{m['same_scores']:>12}{faiss_t:>20}{qdrant_t:>20}")


if __name__ == "__main__":
    main()
