"""CrowdFlower suite: re-rank each query's human-judged products; nDCG@5/10 with gains 2^(rel-1)-1.

Held out by QUERY: no evaluated query (nor any of its judgments) is used to fit anything. Methods: random,
BM25 on titles and on title+description, dense MiniLM, a hybrid blend whose weight is chosen on the train
queries, and the LightGBM ranker of ``recsys.ranking.judgments`` when it exists.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.config import Settings, get_settings
from recsys.evaluation import judged_scorers as js
from recsys.evaluation.dataset import fingerprint, resolve_suite_dir
from recsys.evaluation.metrics import exponential_gain, mrr_at_k, ndcg_at_k, r_precision
from recsys.evaluation.results import method_result, new_report, stopwatch
from recsys.evaluation.text_encoding import text_encoder
from recsys.splits import split_keys

NAME = "crowdflower"
FILE = "relevance.csv"
HYBRID_WEIGHTS = tuple(round(w, 1) for w in np.linspace(0.0, 1.0, 11))
TOP_RELEVANCE = 4  # "highly relevant": the relevant set for MRR and R-precision


def read(directory: Path) -> pd.DataFrame:
    frame = pd.read_csv(directory / FILE)
    frame["query"] = frame["query"].astype(str)
    frame["product_description"] = frame["product_description"].fillna("")
    return frame


def split(data: pd.DataFrame, train: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(fit rows, evaluated rows, description)."""
    if train is None:
        fit_q, held_q = split_keys(sorted(data["query"].unique()))
        text = (f"no train dir: fit on {len(fit_q)} queries, evaluate {len(held_q)} held-out queries of the data "
                "dir (recsys.splits hash of the query, grouped: every judgment of a query on one side)")
        return data[data["query"].isin(fit_q)], data[data["query"].isin(held_q)], text
    leak = train["query"].isin(set(data["query"]))
    text = (f"fit on the train dir ({int(leak.sum())} rows of evaluated queries removed), "
            f"evaluate every query of the data dir")
    return train[~leak], data, text


def ranked_ids(rows: pd.DataFrame, scores: np.ndarray, seed: int) -> dict[str, list]:
    """Per query, row positions best first; ties are broken by a seeded shuffle, never by file order."""
    tiebreak = np.random.default_rng(seed).random(len(rows))
    out: dict[str, list] = {}
    positions = np.arange(len(rows))
    for query, take in pd.Series(positions).groupby(rows["query"].to_numpy(), sort=True):
        idx = take.to_numpy()
        order = np.lexsort((tiebreak[idx], -scores[idx]))
        out[str(query)] = idx[order].tolist()
    return out


def score_method(rows: pd.DataFrame, scores: np.ndarray, seed: int, seconds: dict, notes: str = "") -> dict:
    gains = exponential_gain(rows["median_relevance"].to_numpy())
    top = rows["median_relevance"].to_numpy() >= TOP_RELEVANCE
    rankings = ranked_ids(rows, np.asarray(scores, dtype=float), seed)
    queries = sorted(rankings)
    per_query: dict[str, list] = {"ndcg@5": [], "ndcg@10": [], "mrr@10": [], "r_precision": []}
    for q in queries:
        ranked = rankings[q]
        graded = {i: gains[i] for i in ranked}
        relevant = {i for i in ranked if top[i]}
        per_query["ndcg@5"].append(ndcg_at_k(ranked, graded, 5))
        per_query["ndcg@10"].append(ndcg_at_k(ranked, graded, 10))
        per_query["mrr@10"].append(mrr_at_k(ranked, relevant, 10))
        per_query["r_precision"].append(r_precision(ranked, relevant))
    words = np.array([len(q.split()) for q in queries])
    segments = {"1-2 word queries": words <= 2, "3+ word queries": words >= 3}
    arrays = {k: np.array(v, dtype=float) for k, v in per_query.items()}
    return method_result(arrays, segments=segments, seconds=seconds, notes=notes)


def _mean_ndcg10(rows: pd.DataFrame, scores: np.ndarray, seed: int) -> float:
    return score_method(rows, scores, seed, {})["metrics"]["ndcg@10"] or 0.0


def _ranker() -> Callable | None:
    try:
        return importlib.import_module("recsys.ranking.judgments").fit_and_score_judgments
    except (ImportError, AttributeError):
        return None


def run(data_dir: Path | str, train_dir: Path | str | None = None, settings: Settings | None = None,
        seed: int = 0) -> dict:
    settings = settings or get_settings()
    timings: dict = {}
    with stopwatch(timings, "load"):
        data_path = resolve_suite_dir(data_dir, NAME, FILE)
        train_path = resolve_suite_dir(train_dir, NAME, FILE) if train_dir else None
        fit, test, split_text = split(read(data_path), read(train_path) if train_path else None)
        # one frame with unique integer labels: the BM25 corpus (texts only) and row ids for both sides
        corpus = pd.concat([fit, test], ignore_index=True)
        fit, test = corpus.iloc[: len(fit)], corpus.iloc[len(fit):]
    train_info = None if train_path is None else {"dir": str(train_path), "fingerprint": fingerprint(train_path, [FILE])}
    report = new_report(NAME, data_path, fingerprint(data_path, [FILE]), seed, split_text, train_info)
    report["dataset"] = {"fit_rows": len(fit), "fit_queries": int(fit["query"].nunique()),
                         "eval_rows": len(test), "eval_queries": int(test["query"].nunique())}
    encoder = text_encoder(settings)
    methods = report["methods"]

    secs: dict = {}
    with stopwatch(secs, "score"):
        random_scores = np.random.default_rng(seed).random(len(test))
    methods["random"] = score_method(test, random_scores, seed, secs)

    lexical = {}
    for name, with_desc in (("bm25_title", False), ("bm25_title_desc", True)):
        secs = {}
        with stopwatch(secs, "score"):
            lexical[name] = js.bm25_scores(corpus, test, with_desc)
        methods[name] = score_method(test, lexical[name], seed, secs, "BM25 statistics over all product texts")

    secs = {}
    with stopwatch(secs, "score"):
        dense = js.dense_scores(test, encoder.encode)
    methods["dense_minilm"] = score_method(test, dense, seed, secs, f"{settings.text_model}, cosine")

    secs = {}
    with stopwatch(secs, "encode"):
        fit_dense = js.dense_scores(fit, encoder.encode)
    with stopwatch(secs, "fit"):
        # the blend weight is the one that ranks the FIT queries best; evaluated queries play no part
        fit_lex = js.bm25_scores(corpus, fit, False)
        weight = max(HYBRID_WEIGHTS, key=lambda w: _mean_ndcg10(
            fit, js.blend(fit_lex, fit_dense, fit["query"].tolist(), w), seed)) if len(fit) else 0.5
    with stopwatch(secs, "score"):
        hybrid = js.blend(lexical["bm25_title"], dense, test["query"].tolist(), weight)
    methods["hybrid"] = score_method(test, hybrid, seed, secs,
                                     f"per-query min-max blend, dense weight {weight} chosen on fit queries")

    ranker = _ranker()
    if ranker is None:
        report["missing_methods"]["ranker"] = "recsys.ranking.judgments.fit_and_score_judgments not importable"
    else:
        secs = {}
        with stopwatch(secs, "fit+score"):
            scores = ranker(fit.reset_index(drop=True), test.reset_index(drop=True), text_encoder=encoder, seed=seed)
        methods["ranker"] = score_method(test, np.asarray(scores, dtype=float), seed, secs,
                                         "LightGBM ranker of recsys.ranking.judgments")
    report["timings"] = timings
    return report
