"""Chinese text into the joint image space: fit the multilingual head, then query -> image / item, zh vs en.

    HF_HUB_OFFLINE=1 RECSYS_DATA_DIR=/tmp/h16/data PYTHONPATH=. nice -n 10 \
        python benchmarks/bench_multilingual_head.py --version VERSION --cached-fit-only --save

Joint space: the tower_clip ``--version`` (MiniLM heads trained on items that are not held out). Head fit pairs:
(multilingual vector of the English title, the version's joint image vector) of non-held-out items
(``--cached-fit-only``: only those whose image-tower features are already in RECSYS_DATA_DIR's feature cache,
so nothing is re-encoded; the count is printed). Fixed recipe (MultilingualHeadConfig defaults, nothing tuned
here); 10% of the fit items (salted hash) are a validation split, reported as title -> image R@10.
Evaluated: the bilingual queries (recsys/evaluation/data/bilingual_queries.json, relevance by type/colour/gender)
over held-out fashion items (the fashion suite's hash sample of ``--limit``), run once:
- query -> image: the items' joint image vectors;
- query -> item: the served joint item vector, mean of the image and the item's text_clip (title + category +
  attributes) through the version's MiniLM text head.
Routes: MiniLM + the version's text head (today's), and the multilingual encoder + the new head, each with the
English and the Chinese query. Latency: per query, one at a time, same process (median / p95).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from recsys import registry
from recsys.config import Settings
from recsys.encoders.checkpoint import read_heads
from recsys.encoders.feature_cache import FeatureCache, image_key, open_image, text_key
from recsys.encoders.fusion import mean_of_present
from recsys.encoders.image_tower import ImageTower
from recsys.encoders.multilingual import MultilingualTextEncoder
from recsys.encoders.multilingual_head import MultilingualHeadConfig
from recsys.encoders.multilingual_head_store import save_head
from recsys.encoders.openclip_path import slug
from recsys.encoders.text import TextEncoder
from recsys.encoders.tower_clip import TowerClipConfig
from recsys.evaluation import bilingual, fashion_data
from recsys.splits import is_holdout
from recsys.training.multilingual_head_fit import fit_multilingual_head

VALIDATION_SALT = "taillift-multilingual-head-validation"


def _metrics(scores: np.ndarray, queries, table, segment: dict[str, str]) -> dict[str, dict[str, float]]:
    """P@10 / nDCG@10 means over queries with relevant items: all, head, tail."""
    per: dict[str, list[tuple[float, float]]] = {"all": [], "head": [], "tail": []}
    for q, row in zip(queries, scores, strict=True):
        relevant = bilingual.relevant_mask(q, table)
        if not relevant.any():
            continue
        top = np.argsort(-row, kind="stable")[: bilingual.K]
        pn = bilingual.precision_ndcg(relevant[top].tolist(), int(relevant.sum()))
        per["all"].append(pn)
        per[segment[q.id]].append(pn)
    return {
        seg: {"n": len(v), "p@10": float(np.mean([x[0] for x in v])), "ndcg@10": float(np.mean([x[1] for x in v]))}
        for seg, v in per.items()
        if v
    }


def _latency(fn, texts: list[str]) -> tuple[float, float]:
    times = []
    for text in texts:
        t0 = time.perf_counter()
        fn(text)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, help="tower_clip version whose joint space the head targets")
    parser.add_argument("--limit", type=int, default=2000, help="held-out items evaluated (hash sample)")
    parser.add_argument("--cached-fit-only", action="store_true", help="fit only on items with cached image features")
    parser.add_argument("--save", action="store_true", help="store the head (multilingual_head_store)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    started = time.time()
    torch.set_num_threads(2)
    settings = Settings.from_env()
    model_name = settings.multilingual_text_model
    folder = registry.version_dir(settings, args.version)
    version_config = TowerClipConfig.from_dict(registry.read_config(folder)["model"])
    heads = read_heads(folder, version_config)
    tower = ImageTower(version_config.image_tower, version_config.image_size, version_config.flip, device="cpu")
    root = settings.data_dir / "features"
    image_cache = FeatureCache(root, tower.id)

    data = fashion_data.suite_dir(settings.demo_dir)
    rows = fashion_data.read_rows(data)
    held = rows["id"].map(is_holdout)
    ev, fit = fashion_data.sample(rows[held], args.limit), rows[~held]
    images = fashion_data.read_images(data, list(ev["id"]) + list(fit["id"]))
    keys = {i: image_key(b) for i, b in images.items()}
    if args.cached_fit_only:
        fit = fit[[keys[i] in image_cache for i in fit["id"]]]

    def image_feats(ids: list[str]) -> np.ndarray:
        return image_cache.get_or_compute(
            [keys[i] for i in ids], lambda idx: tower.features([open_image(images[ids[n]]) for n in idx]), tower.dim
        )

    with torch.no_grad():
        fit_image = heads.project_image(torch.from_numpy(image_feats(list(fit["id"])))).numpy()
        ev_image = heads.project_image(torch.from_numpy(image_feats(list(ev["id"])))).numpy()
    multi = MultilingualTextEncoder(model_name, threads=2)
    multi_cache = FeatureCache(root, "text-" + slug(model_name) + "-items")

    def multi_items(texts: list[str]) -> np.ndarray:
        return multi_cache.get_or_compute(
            [text_key(t) for t in texts], lambda idx: multi.encode_items([texts[n] for n in idx]), multi.dim
        )

    fit_titles = multi_items(list(fit["productDisplayName"]))
    validation = fit["id"].map(lambda i: is_holdout(i, 0.1, VALIDATION_SALT)).to_numpy()
    config = MultilingualHeadConfig(model_name, args.version, multi.dim, version_config.embed_dim)
    t0 = time.time()
    head, losses = fit_multilingual_head(fit_titles[~validation], fit_image[~validation], config)
    fit_seconds = time.time() - t0
    val_scores = head.project(fit_titles[validation]) @ fit_image[validation].T
    val_r10 = float(np.mean([i in np.argsort(-r)[:10] for i, r in enumerate(val_scores)]))

    minilm = TextEncoder(settings.text_model, "cpu", settings.encode_batch_size)
    minilm_cache = FeatureCache(root, "text-" + slug(minilm.model_name))
    texts = [fashion_data.pair_text(r) for r in ev.itertuples()]
    item_clip = minilm_cache.get_or_compute(
        [text_key(t) for t in texts],
        lambda idx: minilm.encode([texts[n] for n in idx]),
        minilm.dim,
    )
    with torch.no_grad():
        ev_item = mean_of_present(ev_image, heads.project_text(torch.from_numpy(item_clip)).numpy())

    queries = bilingual.load_queries()
    fit_types = frozenset(fit["articleType"])
    tail = fashion_data.tail_types(fit["articleType"])
    segment = {
        q.id: "tail" if any(fashion_data.is_tail(t, tail, fit_types) for t in q.types) else "head" for q in queries
    }
    table = SimpleNamespace(
        leaf=ev["articleType"].to_numpy(), colour=ev["baseColour"].to_numpy(), gender=ev["gender"].to_numpy()
    )

    def minilm_route(texts: list[str]) -> np.ndarray:
        with torch.no_grad():
            return heads.project_text(torch.from_numpy(minilm.encode(texts))).numpy()

    def multi_route(texts: list[str]) -> np.ndarray:
        return head.project(multi.encode_queries(texts))

    report: dict = {
        "joint_version": args.version,
        "text_model": model_name,
        "fit_pairs": int((~validation).sum()),
        "validation_pairs": int(validation.sum()),
        "validation_title_image_r@10": val_r10,
        "epoch_losses": losses,
        "fit_seconds": fit_seconds,
        "evaluated_items": len(ev),
        "results": {},
    }
    for route_name, route in (("minilm_head", minilm_route), ("multilingual_head", multi_route)):
        for lang in bilingual.LANGUAGES:
            vectors = route([q.text[lang] for q in queries])
            for task, corpus in (("query->image", ev_image), ("query->item", ev_item)):
                report["results"][f"{task}/{route_name}/{lang}"] = _metrics(vectors @ corpus.T, queries, table, segment)
    texts = [q.text[lang] for q in queries for lang in bilingual.LANGUAGES]
    for fn in (minilm_route, multi_route):  # warm-up
        fn(texts[:4])
    report["latency_ms"] = {
        "minilm_head": _latency(lambda t: minilm_route([t]), texts),
        "multilingual_head": _latency(lambda t: multi_route([t]), texts),
        "multilingual_encoder_only": _latency(lambda t: multi.encode_queries([t]), texts),
    }
    report["load_average"] = os.getloadavg()[0]
    report["seconds"] = time.time() - started
    if args.save:
        kept = {k: report[k] for k in ("fit_pairs", "validation_title_image_r@10")}
        report["saved_to"] = str(save_head(settings, head, kept))

    print(
        f"version {args.version}, {model_name}: head fit on {report['fit_pairs']} pairs in {fit_seconds:.0f}s, "
        f"validation title->image R@10 {val_r10:.3f} ({report['validation_pairs']} pairs); "
        f"{len(ev)} held-out items; load {report['load_average']:.1f}"
    )
    print(f"{'task/route/lang':<34}{'n':>4}{'P@10':>8}{'nDCG@10':>9}  head/tail nDCG@10")
    for name, segs in report["results"].items():
        a = segs["all"]
        ht = " / ".join(f"{segs[s]['ndcg@10']:.3f}" if s in segs else "-" for s in ("head", "tail"))
        print(f"{name:<34}{a['n']:>4}{a['p@10']:>8.3f}{a['ndcg@10']:>9.3f}  {ht}")
    for task in ("query->image", "query->item"):
        en = report["results"][f"{task}/minilm_head/en"]["all"]
        zh = report["results"][f"{task}/multilingual_head/zh"]["all"]
        print(
            f"{task}: zh (multilingual head) / en (MiniLM head): P@10 {zh['p@10'] / en['p@10']:.2f}x, "
            f"nDCG@10 {zh['ndcg@10'] / en['ndcg@10']:.2f}x"
        )
    for name, (p50, p95) in report["latency_ms"].items():
        print(f"latency {name:<26} p50 {p50:.1f} ms  p95 {p95:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
