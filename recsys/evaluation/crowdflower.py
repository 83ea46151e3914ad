"""CrowdFlower suite: re-rank each query's human-judged products; nDCG@5/10 with gains 2^(rel-1)-1.

Held out by QUERY: no evaluated query (nor any of its judgments) is used to fit anything. Methods: random,
BM25 on titles and on title+description, dense MiniLM, a hybrid blend whose weight is chosen on the train
queries, and the learners of ``recsys.ranking.judgments`` when they exist: the LightGBM ranker (``ranker``)
and the linear blend of three scores (``ranker_linear``).

``run(..., folds=5)`` adds an outer cross-validation by query over ALL queries (``report["outer_cv"]``):
35 held-out queries give a standard error of about 0.03 on a mean nDCG@10, too coarse to compare rankers.

nDCG uses gains 2^(rel-1) - 1; ``ndcg@10_linear`` (gains rel - 1) is reported beside it because published
CrowdFlower numbers use either convention, and the linear one reads 0.05-0.07 higher here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.config import Settings, get_settings
from recsys.evaluation import judged_scorers as js
from recsys.evaluation.dataset import fingerprint, resolve_suite_dir
from recsys.evaluation.metrics import exponential_gain, linear_gain, mrr_at_k, ndcg_at_k, r_precision
from recsys.evaluation.results import method_result, new_report, stopwatch
from recsys.evaluation.text_encoding import text_encoder
from recsys.progress import Progress
from recsys.ranking.judgments import fit_and_score_all
from recsys.ranking.token_vectors import CachedTokenEncoder, TokenEncoder
from recsys.splits import split_keys

NAME = "crowdflower"
FILE = "relevance.csv"
HYBRID_WEIGHTS = tuple(round(w, 1) for w in np.linspace(0.0, 1.0, 11))
TOP_RELEVANCE = 4  # "highly relevant": the relevant set for MRR and R-precision
RANKER_NOTES = {
    "ranker": "LightGBM LambdaRanker over all features (recsys.ranking.judgments), grid + grouped CV on fit queries",
    "ranker_linear": (
        "ridge over per-query z-scores of cos_text_doc, li_title_mean and prf_sim (recsys.ranking.linear)"
    ),
}


def read(directory: Path) -> pd.DataFrame:
    frame = pd.read_csv(directory / FILE)
    frame["query"] = frame["query"].astype(str)
    frame["product_description"] = frame["product_description"].fillna("")
    return frame


def split(data: pd.DataFrame, train: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(fit rows, evaluated rows, description)."""
    if train is None:
        fit_q, held_q = split_keys(sorted(data["query"].unique()))
        text = (
            f"no train dir: fit on {len(fit_q)} queries, evaluate {len(held_q)} held-out queries of the data "
            "dir (recsys.splits hash of the query, grouped: every judgment of a query on one side)"
        )
        return data[data["query"].isin(fit_q)], data[data["query"].isin(held_q)], text
    leak = train["query"].isin(set(data["query"]))
    text = (
        f"fit on the train dir ({int(leak.sum())} rows of evaluated queries removed), "
        f"evaluate every query of the data dir"
    )
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
    linear = linear_gain(rows["median_relevance"].to_numpy())
    top = rows["median_relevance"].to_numpy() >= TOP_RELEVANCE
    rankings = ranked_ids(rows, np.asarray(scores, dtype=float), seed)
    queries = sorted(rankings)
    per_query: dict[str, list] = {"ndcg@5": [], "ndcg@10": [], "ndcg@10_linear": [], "mrr@10": [], "r_precision": []}
    for q in queries:
        ranked = rankings[q]
        graded = {i: gains[i] for i in ranked}
        relevant = {i for i in ranked if top[i]}
        per_query["ndcg@5"].append(ndcg_at_k(ranked, graded, 5))
        per_query["ndcg@10"].append(ndcg_at_k(ranked, graded, 10))
        per_query["ndcg@10_linear"].append(ndcg_at_k(ranked, {i: linear[i] for i in ranked}, 10))
        per_query["mrr@10"].append(mrr_at_k(ranked, relevant, 10))
        per_query["r_precision"].append(r_precision(ranked, relevant))
    words = np.array([len(q.split()) for q in queries])
    segments = {"1-2 word queries": words <= 2, "3+ word queries": words >= 3}
    arrays = {k: np.array(v, dtype=float) for k, v in per_query.items()}
    return method_result(arrays, segments=segments, seconds=seconds, notes=notes)


def _mean_ndcg10(rows: pd.DataFrame, scores: np.ndarray, seed: int) -> float:
    return score_method(rows, scores, seed, {})["metrics"]["ndcg@10"] or 0.0


def token_encoder(settings: Settings) -> CachedTokenEncoder:
    """MiniLM word-piece vectors for the late-interaction features, cached beside the sentence vectors."""
    return CachedTokenEncoder(
        TokenEncoder(settings.text_model), settings.data_dir / "cache", model_name=f"{settings.text_model}#tokens"
    )


def _fit_and_score(
    corpus: pd.DataFrame, fit: pd.DataFrame, test: pd.DataFrame, encoder, seed: int, text_model: str, tokens=None
) -> dict[str, tuple[np.ndarray, dict, str]]:
    """Every method's scores for the ``test`` rows: name -> (scores, seconds, notes).

    ``fit`` and ``test`` are row subsets of ``corpus`` (by index label). Only ``fit`` rows' labels are read
    (the hybrid weight and the ranker); ``corpus`` supplies product texts only (the BM25 statistics).
    """
    out: dict[str, tuple[np.ndarray, dict, str]] = {}
    secs: dict = {}
    with stopwatch(secs, "score"):
        random_scores = np.random.default_rng(seed).random(len(test))
    out["random"] = (random_scores, secs, "")

    lexical = {}
    for name, with_desc in (("bm25_title", False), ("bm25_title_desc", True)):
        secs = {}
        with stopwatch(secs, "score"):
            lexical[name] = js.bm25_scores(corpus, test, with_desc)
        out[name] = (lexical[name], secs, "BM25 statistics over all product texts")

    secs = {}
    with stopwatch(secs, "score"):
        dense = js.dense_scores(test, encoder.encode)
    out["dense_minilm"] = (dense, secs, f"{text_model}, cosine")

    secs = {}
    with stopwatch(secs, "encode"):
        fit_dense = js.dense_scores(fit, encoder.encode)
    with stopwatch(secs, "fit"):
        # the blend weight is the one that ranks the FIT queries best; evaluated queries play no part
        fit_lex = js.bm25_scores(corpus, fit, False)
        weight = (
            max(
                HYBRID_WEIGHTS,
                key=lambda w: _mean_ndcg10(fit, js.blend(fit_lex, fit_dense, fit["query"].tolist(), w), seed),
            )
            if len(fit)
            else 0.5
        )
    with stopwatch(secs, "score"):
        hybrid = js.blend(lexical["bm25_title"], dense, test["query"].tolist(), weight)
    out["hybrid"] = (hybrid, secs, f"per-query min-max blend, dense weight {weight} chosen on fit queries")

    secs = {}
    with stopwatch(secs, "fit+score"):
        scores = fit_and_score_all(
            fit.reset_index(drop=True),
            test.reset_index(drop=True),
            text_encoder=encoder,
            seed=seed,
            token_encoder=tokens,
        )
    for name, values in scores.items():  # one shared timing: the features are built once for all learners
        out[name] = (np.asarray(values, dtype=float), secs, RANKER_NOTES.get(name, "recsys.ranking.judgments"))
    return out


def outer_folds(queries: pd.Series, n_folds: int, seed: int) -> np.ndarray:
    """Fold number per row: the distinct queries, shuffled by ``seed``, dealt round-robin into ``n_folds``."""
    distinct = np.array(sorted(queries.unique()), dtype=object)
    if not 2 <= n_folds <= len(distinct):
        raise ValueError(f"--folds must be between 2 and the number of queries ({len(distinct)}), got {n_folds}")
    order = np.random.default_rng(seed).permutation(len(distinct))
    fold_of = {distinct[i]: pos % n_folds for pos, i in enumerate(order)}
    return queries.map(fold_of).to_numpy(dtype=int)


def ndcg10_per_query(
    rows: pd.DataFrame, scores: np.ndarray, seed: int, gain: Callable[[np.ndarray], np.ndarray] = exponential_gain
) -> dict[str, float]:
    """query -> nDCG@10 of ``scores`` (same gains and seeded tie-breaking as ``score_method``)."""
    gains = gain(rows["median_relevance"].to_numpy())
    return {
        q: ndcg_at_k(ranked, {i: gains[i] for i in ranked}, 10)
        for q, ranked in ranked_ids(rows, np.asarray(scores, dtype=float), seed).items()
    }


def run_outer_cv(
    data: pd.DataFrame,
    extra_fit: pd.DataFrame | None,
    encoder,
    seed: int,
    n_folds: int,
    text_model: str,
    tokens=None,
    progress: Progress | None = None,
) -> dict:
    """Outer cross-validation by query over ALL queries of ``data``: every method (hybrid weight and ranker
    included) is fitted on the other folds' queries (plus ``extra_fit``, a train dir) and scored on the fold.

    Reports nDCG@10 per fold, mean ± std over folds, the mean over all queries with its standard error, and
    each method's paired per-query difference to dense MiniLM (mean ± standard error).
    """
    extra = extra_fit if extra_fit is not None else data.iloc[:0]
    corpus = pd.concat([data, extra], ignore_index=True)
    data_part, extra_part = corpus.iloc[: len(data)], corpus.iloc[len(data) :]
    fold_of = outer_folds(data_part["query"], n_folds, seed)
    per_query: dict[str, dict[str, float]] = {}
    per_query_linear: dict[str, dict[str, float]] = {}
    fold_scores: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    sizes = []
    for k in range(n_folds):
        if progress is not None:
            progress(k, n_folds, "outer cv folds")
        test = data_part[fold_of == k]
        fit = pd.concat([data_part[fold_of != k], extra_part])
        sizes.append(
            {
                "fit_queries": int(fit["query"].nunique()),
                "eval_queries": int(test["query"].nunique()),
                "eval_rows": len(test),
            }
        )
        for name, (scores, secs, _) in _fit_and_score(corpus, fit, test, encoder, seed, text_model, tokens).items():
            values = ndcg10_per_query(test, scores, seed)
            per_query.setdefault(name, {}).update(values)
            per_query_linear.setdefault(name, {}).update(ndcg10_per_query(test, scores, seed, linear_gain))
            fold_scores.setdefault(name, []).append(float(np.mean(list(values.values()))))
            seconds[name] = round(seconds.get(name, 0.0) + sum(secs.values()), 3)
    if progress is not None:
        progress(n_folds, n_folds, "outer cv folds")
    queries = sorted(per_query["random"])
    base = np.array([per_query["dense_minilm"][q] for q in queries])
    base_linear = np.array([per_query_linear["dense_minilm"][q] for q in queries])
    methods = {}
    for name, values in per_query.items():
        v = np.array([values[q] for q in queries])
        v_linear = np.array([per_query_linear[name][q] for q in queries])
        diff = v - base
        methods[name] = {
            "ndcg@10_folds": [round(x, 4) for x in fold_scores[name]],
            "ndcg@10_mean": float(np.mean(fold_scores[name])),
            "ndcg@10_std": float(np.std(fold_scores[name])),
            "ndcg@10_all_queries": float(v.mean()),
            "ndcg@10_std_err": float(v.std(ddof=1) / np.sqrt(len(v))),
            "minus_dense_minilm": float(diff.mean()),
            "minus_dense_minilm_std_err": float(diff.std(ddof=1) / np.sqrt(len(diff))),
            "ndcg@10_linear_all_queries": float(v_linear.mean()),
            "linear_minus_dense_minilm": float((v_linear - base_linear).mean()),
            "seconds": seconds[name],
        }
    return {
        "folds": n_folds,
        "seed": seed,
        "queries": len(queries),
        "fold_sizes": sizes,
        "split": (
            f"outer {n_folds}-fold cross-validation by query over all {len(queries)} queries of the data "
            "dir (seeded shuffle, round-robin); every method fitted only on the other folds' queries"
            + (" plus the train dir" if len(extra_part) else "")
        ),
        "methods": methods,
    }


def format_outer_cv(report: dict) -> str:
    """The outer-CV block of a report as text (empty when the report has none)."""
    outer = report.get("outer_cv")
    if not outer:
        return ""
    lines = [
        f"outer CV: {outer['split']}",
        "",
        f"{'method':<16} {'nDCG@10 mean ± std over folds':>30}  {'all queries ± se':>17}  "
        f"{'vs dense ± se':>16}  {'linear gains':>12}  per fold",
    ]
    for name, m in outer["methods"].items():
        lines.append(
            f"{name:<16} {m['ndcg@10_mean']:>21.4f} ± {m['ndcg@10_std']:.4f}  "
            f"{m['ndcg@10_all_queries']:>8.4f} ± {m['ndcg@10_std_err']:.4f}  "
            f"{m['minus_dense_minilm']:>+7.4f} ± {m['minus_dense_minilm_std_err']:.4f}  "
            f"{m['ndcg@10_linear_all_queries']:>12.4f}  " + " ".join(f"{x:.3f}" for x in m["ndcg@10_folds"])
        )
    return "\n".join(lines)


def run(
    data_dir: Path | str,
    train_dir: Path | str | None = None,
    settings: Settings | None = None,
    seed: int = 0,
    folds: int = 0,
    progress: Progress | None = None,
) -> dict:
    """The fixed held-out split (always); with ``folds`` >= 2 also an outer cross-validation by query over
    all queries of ``data_dir`` (``report["outer_cv"]``, see ``run_outer_cv``)."""
    settings = settings or get_settings()
    timings: dict = {}
    with stopwatch(timings, "load"):
        data_path = resolve_suite_dir(data_dir, NAME, FILE)
        train_path = resolve_suite_dir(train_dir, NAME, FILE) if train_dir else None
        data = read(data_path)
        train = read(train_path) if train_path else None
        fit, test, split_text = split(data, train)
        # one frame with unique integer labels: the BM25 corpus (texts only) and row ids for both sides
        corpus = pd.concat([fit, test], ignore_index=True)
        fit, test = corpus.iloc[: len(fit)], corpus.iloc[len(fit) :]
    train_info = (
        None if train_path is None else {"dir": str(train_path), "fingerprint": fingerprint(train_path, [FILE])}
    )
    report = new_report(NAME, data_path, fingerprint(data_path, [FILE]), seed, split_text, train_info)
    report["dataset"] = {
        "fit_rows": len(fit),
        "fit_queries": int(fit["query"].nunique()),
        "eval_rows": len(test),
        "eval_queries": int(test["query"].nunique()),
    }
    encoder = text_encoder(settings)
    tokens = token_encoder(settings)
    methods = report["methods"]
    with stopwatch(timings, "held-out split"):
        if progress is not None:
            progress(0, 1, "held-out split")
        for name, (scores, secs, notes) in _fit_and_score(
            corpus, fit, test, encoder, seed, settings.text_model, tokens
        ).items():
            methods[name] = score_method(test, scores, seed, secs, notes)
    if progress is not None:
        progress(1, 1, "held-out split")
    if folds:
        extra = None if train is None else train[~train["query"].isin(set(data["query"]))]
        with stopwatch(timings, "outer cv"):
            report["outer_cv"] = run_outer_cv(data, extra, encoder, seed, folds, settings.text_model, tokens, progress)
    report["timings"] = timings
    return report
