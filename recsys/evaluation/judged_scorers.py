"""Scorers for re-ranking judged (query, product) rows: lexical BM25, dense cosine, and their blend.

Each returns one float per row; rows are re-ranked within their query by the suite. Only product *texts*
are indexed (never labels), as a search engine indexes its whole catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from recsys.index.lexical import BM25Index


def product_text(frame: pd.DataFrame, with_description: bool) -> list[str]:
    titles = frame["product_title"].fillna("").astype(str)
    if not with_description:
        return titles.tolist()
    return (titles + " " + frame["product_description"].fillna("").astype(str)).str.strip().tolist()


def bm25_scores(corpus: pd.DataFrame, rows: pd.DataFrame, with_description: bool) -> np.ndarray:
    """BM25 of each row's query against its product; statistics over all ``corpus`` product texts.

    ``rows`` must be a subset of ``corpus`` by index label; the corpus index labels are the BM25 ids.
    """
    # CrowdFlower text is already stemmed and lower-cased: a second stemmer would only mangle it
    index = BM25Index(stemmer="none")
    index.build(corpus.index.to_numpy(dtype=np.int64), product_text(corpus, with_description))
    out = np.zeros(len(rows), dtype=np.float64)
    positions = np.arange(len(rows))
    for query, group in rows.groupby("query", sort=False):
        take = positions[(rows["query"] == query).to_numpy()]
        out[take] = index.score(str(query), group.index.to_numpy(dtype=np.int64))
    return out


def dense_scores(rows: pd.DataFrame, encode) -> np.ndarray:
    """Cosine of the MiniLM query vector with the title+description vector (both unit length)."""
    docs = encode(product_text(rows, with_description=True))
    queries = encode(rows["query"].astype(str).tolist())
    return np.einsum("ij,ij->i", queries, docs).astype(np.float64)


def per_query_minmax(scores: np.ndarray, queries: Sequence[str]) -> np.ndarray:
    """Scale scores to [0, 1] within each query so lexical and dense scales can be mixed."""
    frame = pd.DataFrame({"s": scores, "q": list(queries)})
    grouped = frame.groupby("q", sort=False)["s"]
    low, high = grouped.transform("min"), grouped.transform("max")
    span = (high - low).where(high > low, 1.0)
    return ((frame["s"] - low) / span).to_numpy()


def blend(lexical: np.ndarray, dense: np.ndarray, queries: Sequence[str], dense_weight: float) -> np.ndarray:
    return dense_weight * per_query_minmax(dense, queries) + (1.0 - dense_weight) * per_query_minmax(lexical, queries)
