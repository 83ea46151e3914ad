"""The multilingual query route served in search: the bilingual suite with and without it, and lexicon misses.

    HF_HUB_OFFLINE=1 PYTHONPATH=. nice -n 10 python benchmarks/bench_multilingual_route.py --work-dir /tmp/bilingual2k

The catalog is bench_bilingual's (WORK_DIR/app: 2,000 held-out fashion items ranked, 2,000 fit items excluded;
imported and its heads trained on the first run). Steps, in one process:
1. the bilingual suite (``recsys.evaluation.bilingual.evaluate``, boost fixed at the served 2) with no
   multilingual head: search as before;
2. the serving version's multilingual head fitted as the app fits it (``TailLiftService.fit_multilingual_head``:
   titles of the non-held-out items through USE, their joint image vectors as targets); titles/s printed;
3. the route's RRF weight chosen of ``--weights`` on the suite's validation queries (Chinese, mean nDCG@10 of
   the ``plain`` and ``expand`` configurations: without and with the lexicon's English words; English queries
   never take the route). ``--features 1`` (the default): the route's row is also the query's text_clip row in
   the ranker's similarity columns; ``0``: the RRF ranking only;
4. the suite again with the route at the chosen weight;
5. lexicon misses: Chinese words for catalog types that the lexicon lacks (kept only when query understanding
   reads no type from them and held-out items of the type exist), relevance by type, served configuration
   (understanding on, boost 2), with and without the route; the English type name beside them for reference.
``--latency-only``: warm search p50 of 24 Chinese queries with the route off and on, interleaved, and the route's
encoding alone (a stored head needed). ``--refit`` fits the head again even when one is stored (otherwise a
stored head is reused and step 1 is skipped unless ``--baseline`` is given).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from bench_bilingual import build_catalog

from recsys.accounts.principal import SYSTEM
from recsys.config import REPO_ROOT
from recsys.encoders.multilingual_head_store import load_head
from recsys.evaluation import bilingual, fashion_data
from recsys.search.query_understanding import read
from recsys.search.types import SearchRequest
from recsys.splits import is_holdout

# Chinese words for catalog article types, chosen to be outside the lexicon (synonyms of its words, or types it
# does not cover); each is checked at run time: kept only when query understanding reads no type from it.
LEXICON_MISSES = {
    "腕表": "Watches",
    "墨镜": "Sunglasses",
    "手提包": "Handbags",
    "挎包": "Handbags",
    "皮夹": "Wallets",
    "旅游鞋": "Sports Shoes",
    "衬衣": "Shirts",
    "长裤": "Trousers",
    "西裤": "Trousers",
    "腰带": "Belts",
    "胸罩": "Bra",
    "背带": "Suspenders",
    "雨衣": "Rain Jacket",
    "泳衣": "Swimwear",
    "手套": "Gloves",
    "浴袍": "Bath Robe",
    "马甲": "Waistcoat",
    "润肤霜": "Face Moisturisers",
    "香体喷雾": "Deodorant",
    "毛衣": "Sweaters",
    "夹克": "Jackets",
    "手链": "Bracelet",
    "吊坠": "Pendant",
    "睡裙": "Nightdress",
    "平底鞋": "Flats",
    "人字拖": "Flip Flops",
    "纱丽": "Sarees",
    "手拿包": "Clutches",
    "电脑包": "Laptop Bag",
    "旅行袋": "Duffel Bag",
    "防晒霜": "Sunscreen",
    "眼影": "Eyeshadow",
    "睫毛膏": "Mascara",
    "水壶": "Water Bottle",
    "篮球": "Basketballs",
    "雨伞": "Umbrellas",
}


def _search(engine, text: str, understand: bool, exclude: tuple[int, ...]) -> list[int]:
    request = SearchRequest(text=text, k=bilingual.K, log=False, understand=understand, exclude_item_ids=exclude)
    return [h.item_id for h in engine.search(request).hits]


def _score(engine, table, mask: np.ndarray, text: str, understand: bool, exclude) -> tuple[float, float]:
    ids = _search(engine, text, understand, exclude)
    rows = table.rows(np.asarray(ids, np.int64)) if ids else np.zeros(0, np.int64)
    return bilingual.precision_ndcg(mask[rows].tolist(), int(mask.sum()))


def _lexicon_misses(engine, table, ranked: np.ndarray, tail, fit_types, exclude) -> dict:
    kept, latencies = [], []
    for zh, type_ in LEXICON_MISSES.items():
        understood = read(zh, table)
        mask = (table.leaf == type_) & ranked
        if any(u.kind == "type" for u in understood.items) or not mask.any():
            continue
        started = time.perf_counter()
        p, n = _score(engine, table, mask, zh, True, exclude)
        latencies.append((time.perf_counter() - started) * 1000)
        ep, en = _score(engine, table, mask, type_.lower(), True, exclude)
        segment = "tail" if fashion_data.is_tail(type_, tail, fit_types) else "head"
        kept.append({"zh": zh, "type": type_, "segment": segment, "zh_p": p, "zh_ndcg": n, "en_p": ep, "en_ndcg": en})
    summary: dict = {"n": len(kept), "queries": kept, "zh_p50_ms": statistics.median(latencies) if latencies else None}
    for seg in ("all", "head", "tail"):
        rows = [r for r in kept if seg == "all" or r["segment"] == seg]
        if rows:
            summary[seg] = {
                key: float(np.mean([r[key] for r in rows])) for key in ("zh_p", "zh_ndcg", "en_p", "en_ndcg")
            }
            summary[seg]["n"] = len(rows)
    return summary


def _latency(engine, base, texts: list[str]) -> dict:
    """Warm search p50 of the same Chinese queries with the route off and on, interleaved (alternating which goes
    first), so the shared cores' load weighs on both alike; and the route's encoding alone."""
    times: dict[float, list[float]] = {0.0: [], 1.0: []}
    for weight in times:  # warm-up
        engine.settings = replace(base, multilingual_route_weight=weight)
        for text in texts[:3]:
            engine.search(SearchRequest(text=text, k=bilingual.K, log=False))
    for rep in range(2):
        for text in texts:
            for weight in (0.0, 1.0) if rep == 0 else (1.0, 0.0):
                engine.settings = replace(base, multilingual_route_weight=weight)
                times[weight].append(engine.search(SearchRequest(text=text, k=bilingual.K, log=False)).latency_ms)
    engine.settings = base
    route = engine.multilingual.get(engine.encoder)
    encode = []
    for text in texts:
        started = time.perf_counter()
        route.joint_vector(text)
        encode.append((time.perf_counter() - started) * 1000)
    return {
        "n": len(times[0.0]),
        "p50_without_route_ms": statistics.median(times[0.0]),
        "p50_with_route_ms": statistics.median(times[1.0]),
        "route_encode_p50_ms": statistics.median(encode),
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "fashion")
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--weights", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--refit", action="store_true", help="fit the head again even when one is stored")
    parser.add_argument("--baseline", action="store_true", help="with a stored head: still run the no-route suite")
    parser.add_argument(
        "--features", type=int, choices=(0, 1), default=1, help="the route's row in the ranker's similarity columns"
    )
    parser.add_argument("--latency-only", action="store_true", help="only the interleaved p50 (needs a stored head)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    data_dir = fashion_data.suite_dir(args.data)
    frame = fashion_data.read_rows(data_dir)
    fit_rows = frame[~frame["id"].map(is_holdout)]
    tail, fit_types = fashion_data.tail_types(fit_rows["articleType"]), frozenset(fit_rows["articleType"])
    service, excluded = build_catalog(data_dir, args.work_dir, args.limit)
    engine = service.engine
    assert engine is not None
    base = engine.settings
    state = engine.holder.get()
    table = state.table
    ranked = ~np.isin(table.ids, np.asarray(excluded, np.int64))
    queries = bilingual.load_queries()
    version = service.serving_encoder_version()
    features = bool(args.features)
    report: dict = {"version": version, "features": features, "load_average_start": os.getloadavg()[0]}

    def log(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line} (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)

    def suite() -> dict:
        return bilingual.evaluate(engine, queries, tail, fit_types, excluded, boost_grid=(2.0,), progress=log)

    if args.latency_only:
        try:
            report = _latency(engine, base, [q.text["zh"] for q in queries][:24])
        finally:
            service.close()
        print(json.dumps(report))
        return
    try:
        stored = load_head(base, version, base.multilingual_text_model) is not None
        if not stored or args.baseline or args.refit:
            engine.settings = replace(base, multilingual_route_weight=0.0)
            report["without_route"] = suite()
            report["lexicon_misses_without_route"] = _lexicon_misses(engine, table, ranked, tail, fit_types, excluded)
            log("without the route: done")
        if not stored or args.refit:
            t0 = time.perf_counter()
            fit = service.fit_multilingual_head(SYSTEM)
            report["fit"] = {**fit.metrics, "seconds": time.perf_counter() - t0, "folder": str(fit.folder)}
            log(f"head fitted: {report['fit']}")
        validation = [q for q in queries if q.validation]
        masks = {q.id: bilingual.relevant_mask(q, table) & ranked for q in validation}
        validation = [q for q in validation if masks[q.id].any()]
        grid = {}
        for weight in args.weights:
            engine.settings = replace(base, multilingual_route_weight=weight, multilingual_route_features=features)
            scores = [
                _score(engine, table, masks[q.id], q.text["zh"], understand, excluded)[1]
                for q in validation
                for understand in (False, True)
            ]
            grid[weight] = float(np.mean(scores))
            log(f"weight {weight:g}: validation zh nDCG@10 (plain+expand) {grid[weight]:.3f}")
        chosen = max(args.weights, key=lambda w: grid[w])
        report["weight_grid_validation_zh_ndcg"] = {f"{w:g}": v for w, v in grid.items()}
        report["chosen_weight"] = chosen
        engine.settings = replace(base, multilingual_route_weight=chosen, multilingual_route_features=features)
        report["with_route"] = suite()
        report["lexicon_misses_with_route"] = _lexicon_misses(engine, table, ranked, tail, fit_types, excluded)
        report["route_loads"] = engine.multilingual.loads
    finally:
        engine.settings = base
        service.close()
    report["load_average_end"] = os.getloadavg()[0]
    for name in ("without_route", "with_route"):
        if name in report:
            print(f"== {name}")
            print(bilingual.format_report(report[name]))
    for name in ("lexicon_misses_without_route", "lexicon_misses_with_route"):
        if name in report:
            m = report[name]
            print(f"== {name}: {m['n']} queries, zh p50 {m['zh_p50_ms']:.1f} ms")
            for seg in ("all", "head", "tail"):
                if seg in m:
                    s = m[seg]
                    print(
                        f"  {seg:<5} n={s['n']:>2}  zh P@10 {s['zh_p']:.3f} nDCG@10 {s['zh_ndcg']:.3f}   "
                        f"en P@10 {s['en_p']:.3f} nDCG@10 {s['en_ndcg']:.3f}"
                    )
    print(f"weight grid (validation zh nDCG@10): {report['weight_grid_validation_zh_ndcg']}; chosen {chosen:g}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
