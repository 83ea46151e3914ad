"""Where today's index design stops: N synthetic items beside a 40k run, same process, same generator.

    HF_HUB_OFFLINE=1 nice -n 10 python benchmarks/bench_scale.py --items 1000000 --factories Flat,IVF1024,SQ8
    python benchmarks/bench_scale.py --items 200000 --json

Catalog: ``recsys.catalog.synthetic`` (SYNTHETIC, speed/memory only): titles/attributes recombine the real
fashion styles.csv vocabulary; vectors are drawn around real MiniLM text-route vectors (``--base-items`` real
titles encoded once with the project's TextEncoder, cached under ``--cache-dir``). Held-out real titles are
the queries. Each size runs in its own subprocess so its peak RSS (ru_maxrss) is its own.

Measured on the CURRENT design (recsys.index: VectorIndex + BM25Index in a copy-on-write SnapshotHolder):
* ``p50_ms``/``p95_ms``: a warm hybrid text query with a filter (gender): query encoding + dense top-100 +
  BM25 top-100 + RRF, i.e. the first stage. The ranker and the service layer are NOT included (a 1M-item
  service catalog cannot be imported and encoded here in time); see docs/scale.md.
* ``recall_at_10``: dense recall@10 of each factory against exact (Flat) search; a compressed base (PQ, SQ4) is
  re-scored as the service re-scores it (``recsys.search.dense.refined_search``).
* ``edit_visible_s``: one added item through the SEGMENTED live-edit path (``benchmarks/segmented_edit.py``:
  table and route rows spliced, a delta FAISS segment, a delta BM25 segment with global statistics) until BM25
  and the dense route both return it; median of ``--edit-repeats``. ``edit_rebuilt_s``: the same through the
  old copy-on-write path (copy of both indexes + full BM25 rebuild), for comparison. No DB in either.
* ``merge_s``: the background merge after those edits (deltas folded into a copy of the base).
* ``p50_seg_ms``/``p95_seg_ms``: the hybrid query on the segmented state (base + the delta segments).
* ``restart_s``: loading the saved vector + BM25 indexes from disk.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from benchmarks.segmented_edit import hybrid_times, segmented_edits
from recsys.catalog.synthetic import FashionVocabulary, synthetic_catalog
from recsys.config import get_settings
from recsys.index.hybrid import reciprocal_rank_fusion
from recsys.index.lexical import BM25Index
from recsys.index.snapshot import IndexSnapshot, SnapshotHolder
from recsys.index.vector import VectorIndex
from recsys.search.dense import refined_search

REFERENCE_ITEMS = 40_000


def real_titles(styles: Path, n: int) -> list[str]:
    with styles.open(newline="", encoding="utf-8", errors="replace") as fh:
        titles = [r["productDisplayName"] for r in csv.DictReader(fh) if r.get("productDisplayName")]
    rng = np.random.default_rng(0)
    return [titles[i] for i in rng.choice(len(titles), min(n, len(titles)), replace=False)]


def text_encoder():
    from recsys.encoders.text import TextEncoder

    s = get_settings()
    return TextEncoder(s.text_model, "cpu", s.encode_batch_size)


def base_vectors(styles: Path, n: int, cache: Path) -> tuple[list[str], np.ndarray]:
    """``n`` real titles and their MiniLM vectors, encoded once and cached."""
    titles = real_titles(styles, n)
    path = cache / f"minilm_titles_{len(titles)}.npy"
    if path.exists():
        return titles, np.load(path)
    cache.mkdir(parents=True, exist_ok=True)
    vectors = text_encoder().encode(titles)
    np.save(path, vectors)
    return titles, vectors


def pct(times: list[float]) -> tuple[float, float]:
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 95) * 1e3)


def run_size(n: int, args: argparse.Namespace, out: mp.Queue) -> None:
    styles = Path(args.styles)
    titles, base = base_vectors(styles, args.base_items + args.queries, Path(args.cache_dir))
    q_titles, q_vecs = titles[: args.queries], base[: args.queries]  # held out from the base vectors
    cat = synthetic_catalog(n, FashionVocabulary.from_styles_csv(styles), base[args.queries :], seed=n)
    enc = text_encoder()
    result: dict = {"items": n, "dim": int(cat.vectors.shape[1]), "factories": {}}

    t = time.perf_counter()
    lexical = BM25Index()
    lexical.build(cat.ids, cat.titles)
    result["bm25_build_s"] = time.perf_counter() - t
    allowed = cat.ids[cat.attributes["gender"] == "Women"]

    exact_ids = None
    for factory in args.factories.split(";"):
        t = time.perf_counter()
        index = VectorIndex(cat.vectors.shape[1], factory, ef_search=args.ef_search)
        index.build(cat.ids, cat.vectors)
        build_s = time.perf_counter() - t
        _, found = refined_search(index, q_vecs, 10, None, cat.vectors.__getitem__)  # ids are row numbers
        if exact_ids is None:
            exact = VectorIndex(cat.vectors.shape[1], "Flat")
            exact.build(cat.ids, cat.vectors)
            _, exact_ids = exact.search(q_vecs, 10)
            del exact
        rec = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact_ids)]))
        times = []
        for title in q_titles:
            start = time.perf_counter()
            qv = enc.encode([title])
            dense = refined_search(index, qv, 100, allowed, cat.vectors.__getitem__)
            sparse = lexical.search(title, 100, allowed)
            reciprocal_rank_fusion([(dense[1][0], dense[0][0]), (sparse[1], sparse[0])])
            times.append(time.perf_counter() - start)
        p50, p95 = pct(times)
        result["factories"][factory] = {
            "build_s": build_s,
            "recall_at_10": rec,
            "p50_ms": p50,
            "p95_ms": p95,
            "effective": index.effective_factory,
        }
        last = index
    first = result["factories"][args.factories.split(";")[-1]]
    result.update(p50_ms=first["p50_ms"], p95_ms=first["p95_ms"], recall_at_10=first["recall_at_10"])

    # Live edit: the segmented path the engine takes now (the aim: the same cost at any catalog size).
    seg = segmented_edits(cat, last, q_vecs, args.edit_repeats)
    result.update(edit_visible_s=seg["edit_visible_s"], edit_first_s=seg["edit_first_s"], merge_s=seg["merge_s"])
    result["segmented_bm25_build_s"] = seg["segmented_bm25_build_s"]
    p50_seg, p95_seg = pct(hybrid_times(*seg.pop("state"), enc.encode, q_titles, allowed))
    result.update(p50_seg_ms=p50_seg, p95_seg_ms=p95_seg)

    # The old copy-on-write path (copy of both indexes + BM25 rebuild), for comparison.
    holder = SnapshotHolder(IndexSnapshot("bench", last, lexical))
    edits = []
    for r in range(args.rebuilt_repeats):
        new_id, text = n + r, f"zzqx{r} Bench Added Item"
        vec = q_vecs[r : r + 1]

        def change(s: IndexSnapshot, new_id: int = new_id, text: str = text, vec: np.ndarray = vec) -> None:
            s.vectors.add(np.array([new_id]), vec)
            assert s.lexical is not None
            s.lexical.add(np.array([new_id]), [text])

        start = time.perf_counter()
        snap = holder.update(change)
        assert snap.lexical is not None
        if new_id not in snap.lexical.search(f"zzqx{r}", 1)[1]:
            raise RuntimeError("added item is not searchable")
        edits.append(time.perf_counter() - start)
    result["edit_rebuilt_s"] = float(np.median(edits))

    with tempfile.TemporaryDirectory(dir=args.cache_dir) as tmp:
        snap = holder.get()
        assert snap is not None and snap.lexical is not None
        snap.vectors.save(Path(tmp) / "vec")
        snap.lexical.save(Path(tmp) / "bm25")
        del holder, snap, last, index, lexical
        start = time.perf_counter()
        loaded = VectorIndex.load(Path(tmp) / "vec"), BM25Index.load(Path(tmp) / "bm25")
        result["restart_s"] = time.perf_counter() - start
        if any(x is None for x in loaded):
            raise RuntimeError("saved index did not load")
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    out.put(result)


def measure(n: int, args: argparse.Namespace) -> dict:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=run_size, args=(n, args, out))
    proc.start()
    while proc.is_alive() or not out.empty():  # a killed child (e.g. out of memory) must not hang the parent
        try:
            return out.get(timeout=5)
        except Exception:  # queue.Empty
            continue
    raise RuntimeError(f"{n}-item run died with exit code {proc.exitcode} (out of memory?)")


FIELDS = ("p50_ms", "p95_ms", "recall_at_10", "rss_mb", "edit_visible_s", "restart_s")
EXTRA = (
    "edit_first_s",
    "edit_rebuilt_s",
    "merge_s",
    "p50_seg_ms",
    "p95_seg_ms",
    "bm25_build_s",
    "segmented_bm25_build_s",
)


def main() -> None:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--factories", default="Flat;IVF1024,SQ8", help="';'-separated FAISS factory strings")
    p.add_argument("--styles", default=str(s.demo_dir / "styles.csv"), help="fashion styles.csv (RECSYS_DEMO_DIR)")
    p.add_argument("--base-items", type=int, default=3000)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--ef-search", type=int, default=64)
    p.add_argument("--edit-repeats", type=int, default=5)
    p.add_argument("--rebuilt-repeats", type=int, default=1, help="edits through the old copy-on-write path")
    p.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "taillift-bench-cache"))
    p.add_argument("--no-reference", action="store_true", help="skip the 40k run")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    ref = None if args.no_reference or args.items == REFERENCE_ITEMS else measure(REFERENCE_ITEMS, args)
    big = measure(args.items, args)
    if args.json:
        keys = ("items", *FIELDS)
        obj = {k: big[k] for k in keys}
        obj["factories"] = big["factories"]
        if ref is not None:
            obj["reference_40k"] = {k: ref[k] for k in keys} | {"factories": ref["factories"]}
        print(json.dumps(obj))
        return
    print(f"SYNTHETIC catalog, dim {big['dim']}; hybrid filtered first stage (no ranker)")
    print(f"{'figure':<16}{'40k':>12}{args.items:>12}{'ratio':>8}")
    for k in FIELDS + EXTRA:
        r = ref[k] if ref else float("nan")
        print(f"{k:<16}{r:>12.3f}{big[k]:>12.3f}{big[k] / r if ref else float('nan'):>8.2f}")
    print(f"\n{'factory':<16}{'size':>9}{'build s':>9}{'R@10':>7}{'p50 ms':>8}{'p95 ms':>8}")
    for res in (x for x in (ref, big) if x):
        for f, v in res["factories"].items():
            print(
                f"{f:<16}{res['items']:>9}{v['build_s']:>9.1f}{v['recall_at_10']:>7.3f}"
                f"{v['p50_ms']:>8.1f}{v['p95_ms']:>8.1f}"
            )


if __name__ == "__main__":
    main()
