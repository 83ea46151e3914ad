"""The one-query MiniLM encode in float32 against bfloat16: time per query and what it changes in retrieval.

    HF_HUB_OFFLINE=1 python benchmarks/bench_query_precision.py [--data ../shared/data] [--queries 2000] [--json]

A search encodes its query alone (``TextEncoder.encode`` of one text: a traced forward, ``query_precision``);
catalog vectors are batches, always float32. Both encoders are loaded in this process and timed interleaved on
the same real queries (CrowdFlower's search queries and fashion titles), so machine load hits both alike. Quality
is measured on real labels, with the catalog side encoded once in float32:
- CrowdFlower: nDCG@10 of ranking each query's judged products by cosine to the query (MiniLM alone, as the
  suite's ``minilm`` baseline), over every query, with the paired per-query difference and its standard error;
- fashion: title -> item Recall@10 over the whole styles.csv (``--queries`` seeded titles asked, each item's own
  title is its one relevant item), and how many of the float32 top 10 the bfloat16 query keeps.
Nothing here is tuned: the two precisions are compared as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from recsys.config import get_settings
from recsys.encoders.text import TextEncoder, native_bf16_cpu
from recsys.evaluation import crowdflower
from recsys.evaluation.metrics import exponential_gain, ndcg_at_k
from recsys.ranking.embedding_cache import CachedTextEncoder


def single(encoder: TextEncoder, texts: list[str]) -> np.ndarray:
    """Each text encoded alone, as a search does."""
    return np.concatenate([encoder.encode([t]) for t in texts])


def interleaved_ms(encoders: dict[str, TextEncoder], texts: list[str]) -> dict[str, list[float]]:
    """ms per one-text encode of every encoder on every text, taking turns (first one alternates)."""
    for enc in encoders.values():  # trace and warm
        single(enc, texts[:10])
    times: dict[str, list[float]] = {name: [] for name in encoders}
    names = list(encoders)
    for i, text in enumerate(texts):
        for name in names[i % 2 :] + names[: i % 2]:
            start = time.perf_counter()
            encoders[name].encode([text])
            times[name].append((time.perf_counter() - start) * 1e3)
    return times


def crowdflower_ndcg(frame: pd.DataFrame, query_vectors: dict[str, np.ndarray], items: np.ndarray) -> np.ndarray:
    """Per query nDCG@10 of its judged rows ranked by cosine (ties by row order) to the query's vector."""
    gains = exponential_gain(frame["median_relevance"].to_numpy())
    out = []
    for query, rows in frame.groupby("query", sort=True).indices.items():
        scores = items[rows] @ query_vectors[query]
        ranked = rows[np.lexsort((rows, -scores))].tolist()
        out.append(ndcg_at_k(ranked, {i: gains[i] for i in rows.tolist()}, 10))
    return np.array(out)


def main() -> None:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    p.add_argument("--queries", type=int, default=2000, help="fashion titles asked (seeded sample)")
    p.add_argument("--timed", type=int, default=400, help="queries timed per precision")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default=str(s.data_dir / "cache"), help="float32 catalog vectors cached here")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    data = Path(args.data)
    encoders = {
        "float32": TextEncoder(s.text_model, "cpu", query_precision="float32"),
        "bfloat16": TextEncoder(s.text_model, "cpu", query_precision="bfloat16"),
    }
    catalog = CachedTextEncoder(encoders["float32"], Path(args.cache_dir), model_name=s.text_model)

    flower = crowdflower.read(data / "crowdflower")
    flower_items = catalog.encode((flower["product_title"] + " " + flower["product_description"]).tolist())
    queries = sorted(flower["query"].unique())
    styles = pd.read_csv(data / "fashion" / "styles.csv", on_bad_lines="skip")
    titles = styles["productDisplayName"].fillna("").astype(str).tolist()
    title_vectors = catalog.encode(titles)
    rng = np.random.default_rng(args.seed)
    asked = rng.choice(len(titles), size=min(args.queries, len(titles)), replace=False)

    load_before = os.getloadavg()[0]
    timed_texts = [queries[i % len(queries)] if i % 2 else titles[asked[i % asked.size]] for i in range(args.timed)]
    times = interleaved_ms(encoders, timed_texts)
    load_after = os.getloadavg()[0]

    result: dict = {
        "native_bf16_cpu": native_bf16_cpu(),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "timed_queries": args.timed,
    }
    fp32_q = single(encoders["float32"], [titles[i] for i in asked])
    per_query = {}
    for name, enc in encoders.items():
        ms = np.array(times[name])
        q_vec = fp32_q if name == "float32" else single(enc, [titles[i] for i in asked])
        top10 = np.argsort(-(q_vec @ title_vectors.T), axis=1)[:, :10]
        flower_q = dict(zip(queries, single(enc, queries)))
        per_query[name] = crowdflower_ndcg(flower, flower_q, flower_items)
        cos = np.sum(q_vec * fp32_q, axis=1)
        result[name] = {
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "fashion_title_r10": round(float(np.mean([a in row for a, row in zip(asked, top10)])), 4),
            "crowdflower_ndcg10": round(float(np.nanmean(per_query[name])), 4),
            "min_cosine_to_float32": round(float(cos.min()), 5),
        }
        if name == "float32":
            fp32_top = top10
        else:
            kept = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top10, fp32_top)])
            result[name]["fashion_top10_kept"] = round(float(kept), 4)
    diff = per_query["bfloat16"] - per_query["float32"]
    diff = diff[~np.isnan(diff)]  # a query none of whose products is relevant has no nDCG
    result["crowdflower_paired_diff"] = round(float(diff.mean()), 5)
    result["crowdflower_paired_se"] = round(float(diff.std(ddof=1) / np.sqrt(diff.size)), 5)
    result["speedup_p50"] = round(result["float32"]["p50_ms"] / result["bfloat16"]["p50_ms"], 2)
    if args.json:
        print(json.dumps(result))
        return
    print(f"native bf16 CPU: {result['native_bf16_cpu']}; load average {load_before:.2f} -> {load_after:.2f}")
    print(f"{'precision':10s} {'p50 ms':>7s} {'p95 ms':>7s} {'fashion R@10':>13s} {'CF nDCG@10':>11s} {'min cos':>8s}")
    for name in encoders:
        r = result[name]
        print(
            f"{name:10s} {r['p50_ms']:7.2f} {r['p95_ms']:7.2f} {r['fashion_title_r10']:13.4f} "
            f"{r['crowdflower_ndcg10']:11.4f} {r['min_cosine_to_float32']:8.5f}"
        )
    print(
        f"bfloat16 keeps {result['bfloat16']['fashion_top10_kept']:.4f} of the float32 top 10; CrowdFlower paired "
        f"difference {result['crowdflower_paired_diff']:+.5f} (se {result['crowdflower_paired_se']:.5f}); "
        f"p50 speed-up {result['speedup_p50']}x"
    )


if __name__ == "__main__":
    main()
