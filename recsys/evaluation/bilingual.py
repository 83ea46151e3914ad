"""Bilingual suite: the same attribute-defined queries in English and Chinese, searched through the app's engine.

Corpus: held-out fashion items (``recsys.splits.is_holdout`` of the id; a deterministic sample of ``limit`` of them,
as the fashion suite draws it), imported into a fresh app data dir with as many items that are not held out, and
served as the app serves them: first-start heads trained on that catalog (head training always drops held-out ids,
so it learns from the others only), the engine's text route (MiniLM today, whatever ``Settings`` names). Every
search excludes the fit items (``SearchRequest.exclude_item_ids``), so only held-out items are ranked and counted.
Queries: ``data/bilingual_queries.json`` (written for this project): an item is relevant when its article type,
colour and gender are those the query names (Unisex counts for Men and Women), so nobody grades by hand.

Metrics at 10: precision (hits / min(10, relevant items): a type with 3 items can still score 1) and binary nDCG.
Segments: language, head vs tail types (tail = the rarest types holding 20% of the fit items, as the fashion suite).
Configurations (the ablation): ``plain`` (no query understanding: no boost, no translation of Chinese words),
``expand`` (understanding read and Chinese phrases' English words added to the lexical query, no boost) and
``understood`` (expansion + soft boost). The boost weight is chosen on validation queries (a salted hash of the
query id) and reported on the others. Price phrases: the fashion set has no prices, so they are scored by parsing
(the range read equals the query's) and relevance ignores them.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from recsys.evaluation import fashion_data
from recsys.search.engine import SearchEngine
from recsys.search.query_understanding import read
from recsys.search.table import ItemTable
from recsys.search.types import SearchRequest
from recsys.splits import is_holdout

QUERIES_PATH = Path(__file__).with_name("data") / "bilingual_queries.json"
LANGUAGES = ("en", "zh")
K = 10
VALIDATION_FRACTION = 0.3
VALIDATION_SALT = "taillift-bilingual-validation"
BOOST_GRID = (0.5, 1.0, 2.0)
UNISEX_FOR = ("Men", "Women")


@dataclass(frozen=True)
class BilingualQuery:
    id: str
    text: dict[str, str]  # language -> query
    types: tuple[str, ...]
    colours: tuple[str, ...] = ()
    genders: tuple[str, ...] = ()
    max_price: float | None = None

    @property
    def validation(self) -> bool:
        return is_holdout(self.id, VALIDATION_FRACTION, VALIDATION_SALT)


def load_queries(path: Path = QUERIES_PATH) -> list[BilingualQuery]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        BilingualQuery(
            q["id"],
            {lang: q[lang] for lang in LANGUAGES},
            tuple(q["type"]),
            tuple(q.get("colour", ())),
            tuple(q.get("gender", ())),
            q.get("max_price"),
        )
        for q in data["queries"]
    ]


def relevant_mask(query: BilingualQuery, table: ItemTable) -> np.ndarray:
    mask = np.isin(table.leaf, list(query.types))
    if query.colours:
        mask &= np.isin(table.colour, list(query.colours))
    if query.genders:
        genders = set(query.genders) | ({"Unisex"} if set(query.genders) & set(UNISEX_FOR) else set())
        mask &= np.isin(table.gender, list(genders))
    return mask


def precision_ndcg(hits: Sequence[bool], relevant: int, k: int = K) -> tuple[float, float]:
    hits = list(hits)[:k]
    ideal = min(k, relevant)
    if ideal == 0:
        return math.nan, math.nan
    dcg = sum(1 / math.log2(i + 2) for i, h in enumerate(hits) if h)
    idcg = sum(1 / math.log2(i + 2) for i in range(ideal))
    return sum(hits) / ideal, dcg / idcg


def _search(
    engine: SearchEngine, text: str, understand: bool, exclude: tuple[int, ...] = ()
) -> tuple[list[int], float]:
    request = SearchRequest(text=text, k=K, log=False, understand=understand, exclude_item_ids=exclude)
    response = engine.search(request)
    return [h.item_id for h in response.hits], response.latency_ms


def evaluate(
    engine: SearchEngine,
    queries: Sequence[BilingualQuery],
    tail: frozenset[str],
    fit_types: frozenset[str],
    excluded: tuple[int, ...] = (),
    boost_grid: Sequence[float] = BOOST_GRID,
    progress: Callable[[str], None] | None = None,
) -> dict:
    state = engine.holder.get()
    assert state is not None, "load_models() first"
    table = state.table
    base_settings = engine.settings
    ranked_rows = ~np.isin(table.ids, np.asarray(excluded, np.int64))  # the held-out items
    masks = {q.id: relevant_mask(q, table) & ranked_rows for q in queries}
    scored = [q for q in queries if masks[q.id].any()]

    def is_tail(q: BilingualQuery) -> bool:
        return any(fashion_data.is_tail(t, tail, fit_types) for t in q.types)

    segment = {q.id: "tail" if is_tail(q) else "head" for q in scored}

    def run(config: str, weight: float) -> dict[tuple[str, str], dict]:
        engine.settings = replace(base_settings, understanding_boost=weight)
        out = {}
        for q in scored:
            for lang in LANGUAGES:
                ids, _ = _search(engine, q.text[lang], config != "plain", excluded)
                # Latency without the exclusion filter (a filtered FAISS search is not what shoppers run).
                _, latency = _search(engine, q.text[lang], config != "plain")
                rows = table.rows(np.asarray(ids, np.int64)) if ids else np.zeros(0, np.int64)
                p, n = precision_ndcg(masks[q.id][rows].tolist(), int(masks[q.id].sum()))
                out[(q.id, lang)] = {"p": p, "ndcg": n, "ms": latency}
        if progress:
            progress(f"{config} (boost {weight:g}) done")
        return out

    try:
        for q in scored[:5]:  # warm-up: first calls load lazily built parts
            _search(engine, q.text["en"], True)
        grid = {w: run("understood", w) for w in boost_grid}
        validation = [(q.id, lang) for q in scored if q.validation for lang in LANGUAGES]
        chosen = max(boost_grid, key=lambda w: _mean([grid[w][key]["ndcg"] for key in validation]))
        results = {"plain": run("plain", 0.0), "expand": run("expand", 0.0), "understood": grid[chosen]}
    finally:
        engine.settings = base_settings
    report: dict = {
        "queries": len(queries),
        "scored_queries": len(scored),
        "validation_queries": sum(q.validation for q in scored),
        "boost_grid_validation_ndcg": {
            f"{w:g}": _mean([grid[w][(q.id, lang)]["ndcg"] for q in scored if q.validation for lang in LANGUAGES])
            for w in boost_grid
        },
        "chosen_boost": chosen,
        "configs": {},
    }
    for config, per in results.items():
        rows: dict[str, dict] = {}
        for split in ("test", "all"):
            chosen_queries = [q for q in scored if split == "all" or not q.validation]
            for lang in LANGUAGES:
                for seg in ("all", "head", "tail"):
                    picked = [per[(q.id, lang)] for q in chosen_queries if seg == "all" or segment[q.id] == seg]
                    rows[f"{split}/{lang}/{seg}"] = {
                        "n": len(picked),
                        "precision@10": _mean([r["p"] for r in picked]),
                        "ndcg@10": _mean([r["ndcg"] for r in picked]),
                    }
        latencies = {lang: [per[(q.id, lang)]["ms"] for q in scored] for lang in LANGUAGES}
        rows["latency_ms"] = {
            lang: {"p50": statistics.median(v), "p95": _pct(v, 0.95)} for lang, v in latencies.items() if v
        }
        report["configs"][config] = rows
    report["price_parse"] = _price_parse(queries, table)
    return report


def _price_parse(queries: Sequence[BilingualQuery], table: ItemTable) -> dict[str, str]:
    """Price phrases read right, per language: the range understood equals (None, the query's max price)."""
    priced = [q for q in queries if q.max_price is not None]
    out = {}
    for lang in LANGUAGES:
        right = sum(read(q.text[lang], table).price_range == (None, q.max_price) for q in priced)
        out[lang] = f"{right}/{len(priced)}"
    return out


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def format_report(report: dict) -> str:
    lines = [
        f"bilingual suite: {report['scored_queries']} of {report['queries']} queries have relevant items "
        f"({report['validation_queries']} validation); boost chosen on validation: {report['chosen_boost']:g} "
        f"(validation nDCG@10 {report['boost_grid_validation_ndcg']})",
        f"price phrases parsed right: {report['price_parse']}",
        f"{'config':<11}{'segment':<18}{'n':>4}{'P@10':>8}{'nDCG@10':>9}",
    ]
    for config, rows in report["configs"].items():
        for name, row in rows.items():
            if name != "latency_ms":
                lines.append(f"{config:<11}{name:<18}{row['n']:>4}{row['precision@10']:>8.3f}{row['ndcg@10']:>9.3f}")
        for lang, lat in rows["latency_ms"].items():
            lines.append(f"{config:<11}latency {lang:<10}     p50 {lat['p50']:.1f} ms  p95 {lat['p95']:.1f} ms")
    return "\n".join(lines)
