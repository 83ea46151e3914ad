"""Does a second, different text model help the CrowdFlower ranker? Its cosines as extra columns, outer CV only.

Issue 16 asks whether the multilingual model (USE or e5) as ranker features closes part of the gap to 0.87
nDCG@10. The ranker's columns come from ``recsys.ranking.features`` (MiniLM cosines, BM25, late interaction,
query match ...); here the second model adds ``SECOND_COLUMNS``: the query-title cosine and its per-query
z-score. Nothing is added to the served feature registry.
Both rankers, the registry's columns alone (``ranker``, what the suite reports) and with the extra ones
(``ranker_plus_second``), are fitted in the same outer folds (``crowdflower.outer_folds``) on the same rows
with the same grid and seed, so the paired difference is the columns alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from recsys.config import Settings, get_settings
from recsys.evaluation import crowdflower
from recsys.evaluation import judged_scorers as js
from recsys.evaluation.dataset import resolve_suite_dir
from recsys.evaluation.text_encoding import text_encoder
from recsys.progress import Progress
from recsys.ranking.cv import grid_search_cv
from recsys.ranking.features import FEATURES
from recsys.ranking.judgments import crowdflower_features
from recsys.ranking.labels import graded_labels

# Titles only: descriptions run to hundreds of words, and encoding them with USE took longer than the session had on
# the shared cores (MiniLM's description cosines stay in the registry's columns).
SECOND_COLUMNS = ("cos2_title", "cos2_title_z")


class QueryItemEncoder(Protocol):
    """What is read of ``recsys.encoders.multilingual.MultilingualTextEncoder``: e5 prefixes queries and passages."""

    model_name: str

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_items(self, texts: list[str]) -> np.ndarray: ...


def _distinct(encode: Callable[[list[str]], np.ndarray], texts: pd.Series) -> np.ndarray:
    codes, uniques = pd.factorize(texts.astype(str))
    return encode(list(uniques))[codes]


def _per_query_z(values: np.ndarray, queries: pd.Series) -> np.ndarray:
    frame = pd.DataFrame({"v": values, "q": queries.to_numpy()})
    grouped = frame.groupby("q")["v"]
    std = grouped.transform("std", ddof=0).to_numpy()
    z = (values - grouped.transform("mean").to_numpy()) / np.where(std > 0, std, 1.0)
    return np.where(np.isnan(values), np.nan, np.where(std > 0, z, 0.0))


def second_text_columns(frame: pd.DataFrame, encoder: QueryItemEncoder) -> np.ndarray:
    """float32 [len(frame), len(SECOND_COLUMNS)]: no labels read, so computing them over all rows leaks nothing."""
    frame = frame.reset_index(drop=True)
    query = _distinct(encoder.encode_queries, frame["query"])
    title = np.einsum("ij,ij->i", query, _distinct(encoder.encode_items, frame["product_title"])).astype(np.float32)
    return np.stack([title, _per_query_z(title, frame["query"])], axis=1).astype(np.float32)


def _summary(per_query: dict[str, dict[str, float]], folds: dict[str, list[float]], base: str) -> dict:
    queries = sorted(per_query[base])
    reference = np.array([per_query[base][q] for q in queries])
    out = {}
    for name, values in per_query.items():
        v = np.array([values[q] for q in queries])
        diff = v - reference
        out[name] = {
            "ndcg@10_folds": [round(x, 4) for x in folds[name]],
            "ndcg@10_mean": float(np.mean(folds[name])),
            "ndcg@10_std": float(np.std(folds[name])),
            "ndcg@10_all_queries": float(v.mean()),
            f"minus_{base}": float(diff.mean()),
            f"minus_{base}_std_err": float(diff.std(ddof=1) / np.sqrt(len(diff))),
            "wins_losses": [int((diff > 1e-9).sum()), int((diff < -1e-9).sum())],
        }
    return out


def run(
    data_dir: Path | str,
    second: QueryItemEncoder,
    settings: Settings | None = None,
    seed: int = 0,
    folds: int = 5,
    progress: Progress | None = None,
    only_folds: Sequence[int] | None = None,
) -> dict:
    """Outer ``folds``-fold CV by query over every query of ``data_dir``: the ranker with and without the
    second model's columns, plus both dense models alone, nDCG@10 per fold and paired per query.

    ``only_folds`` (0-based) runs some of the folds, the same split as a full run, so a run that was cut short
    can be finished; per-query pairs then cover those folds' queries only."""
    settings = settings or get_settings()
    corpus = crowdflower.read(resolve_suite_dir(data_dir, crowdflower.NAME, crowdflower.FILE)).reset_index(drop=True)
    say = progress or (lambda done, total, stage: None)
    say(0, folds, f"encoding with {second.model_name}")
    extra = second_text_columns(corpus, second)
    encoder, tokens = text_encoder(settings), crowdflower.token_encoder(settings)
    fold_of = crowdflower.outer_folds(corpus["query"], folds, seed)
    names = list(FEATURES.names)
    per_query: dict[str, dict[str, float]] = {}
    fold_means: dict[str, list[float]] = {}

    def record(name: str, test: pd.DataFrame, scores: np.ndarray) -> None:
        values = crowdflower.ndcg10_per_query(test, scores, seed)
        per_query.setdefault(name, {}).update(values)
        fold_means.setdefault(name, []).append(float(np.mean(list(values.values()))))

    run_folds = sorted(set(only_folds)) if only_folds is not None else list(range(folds))
    if not run_folds or not all(0 <= k < folds for k in run_folds):
        raise ValueError(f"only_folds must name folds in 0..{folds - 1}, got {only_folds}")
    for k in run_folds:
        say(k, folds, "outer cv folds")
        fit, test = corpus[fold_of != k], corpus[fold_of == k]
        catalog = pd.concat([fit, test], ignore_index=True)  # as fit_and_score_all builds the BM25 corpus
        x_fit = crowdflower_features(fit, text_encoder=encoder, catalog=catalog, token_encoder=tokens)
        x_test = crowdflower_features(test, text_encoder=encoder, catalog=catalog, token_encoder=tokens)
        y = graded_labels(fit["median_relevance"].to_numpy()).values
        queries = fit["query"].tolist()
        record("dense_minilm", test, js.dense_scores(test, encoder.encode))
        record("dense_second", test, extra[fold_of == k, SECOND_COLUMNS.index("cos2_title")])
        for name, (a, b, cols) in {
            "ranker": (x_fit, x_test, names),
            "ranker_plus_second": (
                np.hstack([x_fit, extra[fold_of != k]]),
                np.hstack([x_test, extra[fold_of == k]]),
                names + list(SECOND_COLUMNS),
            ),
        }.items():
            result = grid_search_cv(a, y, queries, cols, seed=seed)
            record(name, test, result.ranker.predict(b))
        say(k + 1, folds, "fold done: " + ", ".join(f"{n} {v[-1]:.4f}" for n, v in fold_means.items()))
    say(folds, folds, "outer cv folds")
    return {
        "second_model": second.model_name,
        "columns": list(SECOND_COLUMNS),
        "folds": folds,
        "folds_run": [k + 1 for k in run_folds],
        "seed": seed,
        "queries": corpus["query"].nunique(),
        "split": f"outer {folds}-fold CV by query (crowdflower.outer_folds, seed {seed}); both rankers fitted on the "
        "other folds only, same grid (recsys.ranking.cv.DEFAULT_GRID) and seed",
        "methods": _summary(per_query, fold_means, "ranker"),
    }


def format_report(report: dict) -> str:
    lines = [
        f"second text model {report['second_model']}: {report['split']}",
        f"{'method':<20}{'nDCG@10 mean ± std (folds)':>28}{'all queries':>13}{'vs ranker ± se':>18}  wins/losses",
    ]
    for name, m in report["methods"].items():
        lines.append(
            f"{name:<20}{m['ndcg@10_mean']:>19.4f} ± {m['ndcg@10_std']:.4f}{m['ndcg@10_all_queries']:>13.4f}"
            f"{m['minus_ranker']:>+10.4f} ± {m['minus_ranker_std_err']:.4f}  "
            f"{m['wins_losses'][0]}/{m['wins_losses'][1]}  folds " + " ".join(f"{x:.3f}" for x in m["ndcg@10_folds"])
        )
    return "\n".join(lines)
