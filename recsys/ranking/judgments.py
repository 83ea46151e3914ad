"""Learning to rank from graded relevance judgments in the CrowdFlower format.

``fit_and_score_all`` is the entry point of the evaluation suite: it turns (query, product) rows into the
ranker's features, trains on ``train`` and scores every ``test`` row with two learners: the LightGBM
LambdaRanker (``fit_and_score_judgments``: grid-searched with grouped CV, then refit) and the ``LinearBlend``
(``fit_and_score_linear``: ridge over per-query z-scores of three scores, see linear.py). BM25 indexes cover the
products of both frames (the catalog being searched); labels come only from ``train``.
Label helpers for other sources live in labels.py and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recsys.index.lexical import BM25Index
from recsys.index.tokenize import Tokenizer
from recsys.ranking.cv import DEFAULT_GRID, CVResult, grid_search_cv
from recsys.ranking.embedding_cache import TextEncoderLike
from recsys.ranking.features import FEATURES, CandidateList, RouteScores, build_features
from recsys.ranking.labels import Labels, attribute_weak_labels, click_labels, graded_labels, position_propensity
from recsys.ranking.linear import LinearBlend
from recsys.ranking.token_vectors import TokenEncoderLike

__all__ = [
    "Labels",
    "attribute_weak_labels",
    "click_labels",
    "crowdflower_features",
    "fit_and_score_all",
    "fit_and_score_judgments",
    "fit_and_score_linear",
    "graded_labels",
    "position_propensity",
    "train_on_judgments",
]

COLUMNS = ("query", "product_title", "product_description")


def _bm25(texts: list[str]) -> BM25Index | None:
    """BM25 over pre-stemmed text (no second stemmer); None when no text has a token (bm25s cannot index it)."""
    tokenizer = Tokenizer("none")
    if not any(tokenizer(t) for t in texts):
        return None
    index = BM25Index(stemmer="none")
    index.build(np.arange(len(texts)), texts)
    return index


def _bm25_scores(index: BM25Index | None, query: str, ids: np.ndarray) -> np.ndarray | None:
    return None if index is None else index.score(query, ids)


def _encode(encoder: TextEncoderLike, texts: Sequence[str]) -> np.ndarray:
    """Encode each distinct text once (queries repeat on every row of their list)."""
    codes, uniques = pd.factorize(pd.Series(list(texts), dtype=object))
    return encoder.encode(list(uniques))[codes]


def _cosines(query_vecs: np.ndarray, item_vecs: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", query_vecs, item_vecs).astype(np.float32)


def _doc_text(frame: pd.DataFrame) -> pd.Series:
    """Title and description as one text (the dense baseline's document, ``judged_scorers.product_text``)."""
    return (frame["product_title"] + " " + frame["product_description"]).str.strip()


def crowdflower_features(
    frame: pd.DataFrame,
    *,
    text_encoder: TextEncoderLike | None,
    catalog: pd.DataFrame | None = None,
    token_encoder: TokenEncoderLike | None = None,
) -> np.ndarray:
    """float32 [len(frame), len(FEATURES)], rows aligned with ``frame``; one candidate list per query.

    ``catalog`` (default: ``frame``) supplies the product texts the BM25 indexes are built on.
    CrowdFlower text is pre-stemmed, so BM25 runs without a stemmer. Without an encoder, dense
    features are NaN; without a token encoder, the late-interaction family is NaN.
    """
    frame = frame.reset_index(drop=True).loc[:, list(COLUMNS)].fillna("")
    catalog = frame if catalog is None else catalog.loc[:, list(COLUMNS)].fillna("")
    products = pd.concat([catalog, frame])[["product_title", "product_description"]].drop_duplicates()
    key = dict(zip(zip(products["product_title"], products["product_description"]), range(len(products))))
    ids = np.array([key[k] for k in zip(frame["product_title"], frame["product_description"])], dtype=np.int64)
    title_index = _bm25(products["product_title"].tolist())
    desc_index = _bm25(products["product_description"].tolist())

    cos_title = cos_desc = cos_doc = np.full(len(frame), np.nan, dtype=np.float32)
    title_vecs = None  # the item vectors of the result-set family: what each product is, by its title
    if text_encoder is not None:
        q = _encode(text_encoder, frame["query"])
        title_vecs = _encode(text_encoder, frame["product_title"])
        cos_title = _cosines(q, title_vecs)
        cos_desc = _cosines(q, _encode(text_encoder, frame["product_description"]))
        cos_desc[frame["product_description"].str.strip().eq("").to_numpy()] = np.nan  # no text, no evidence
        cos_doc = _cosines(q, _encode(text_encoder, _doc_text(frame)))
    query_tokens = title_tokens = None
    if token_encoder is not None:
        queries = list(dict.fromkeys(frame["query"]))
        query_tokens = dict(zip(queries, token_encoder.encode_tokens(queries)))
        title_tokens = token_encoder.encode_tokens(frame["product_title"].tolist())

    X = np.empty((len(frame), len(FEATURES)), dtype=np.float32)
    for query, rows in frame.groupby("query", sort=False).indices.items():
        scores = RouteScores(
            bm25_title=_bm25_scores(title_index, query, ids[rows]),
            bm25_desc=_bm25_scores(desc_index, query, ids[rows]),
            cos_text_title=cos_title[rows],
            cos_text_desc=cos_desc[rows],
            cos_text_doc=cos_doc[rows],
        )
        sub = frame.iloc[rows]
        X[rows] = build_features(
            CandidateList(
                query,
                sub["product_title"].tolist(),
                sub["product_description"].tolist(),
                scores,
                item_vectors=None if title_vecs is None else title_vecs[rows],
                query_tokens=None if query_tokens is None else query_tokens[query],
                title_tokens=None if title_tokens is None else [title_tokens[i] for i in rows],
            )
        )
    return X


def train_on_judgments(
    train: pd.DataFrame,
    *,
    text_encoder: TextEncoderLike | None,
    seed: int,
    catalog: pd.DataFrame | None = None,
    grid: Mapping[str, Sequence[Any]] = DEFAULT_GRID,
    token_encoder: TokenEncoderLike | None = None,
) -> CVResult:
    """Grid-searched, refit ranker from judged rows (column ``median_relevance`` 1-4)."""
    X = crowdflower_features(train, text_encoder=text_encoder, catalog=catalog, token_encoder=token_encoder)
    y = graded_labels(train["median_relevance"].to_numpy()).values
    return grid_search_cv(X, y, train["query"].tolist(), FEATURES.names, grid=grid, seed=seed)


def fit_and_score_judgments(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    text_encoder: TextEncoderLike | None,
    seed: int,
    token_encoder: TokenEncoderLike | None = None,
    grid: Mapping[str, Sequence[Any]] = DEFAULT_GRID,
) -> np.ndarray:
    """LightGBM: train on ``train`` judgments, return one ranking score per ``test`` row (higher = more relevant)."""
    return fit_and_score_all(
        train, test, text_encoder=text_encoder, seed=seed, token_encoder=token_encoder, learners=("ranker",), grid=grid
    )["ranker"]


def fit_and_score_linear(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    text_encoder: TextEncoderLike | None,
    seed: int = 0,
    token_encoder: TokenEncoderLike | None = None,
) -> np.ndarray:
    """``LinearBlend`` fitted on ``train`` judgments; one score per ``test`` row. Deterministic (no seed used)."""
    return fit_and_score_all(
        train, test, text_encoder=text_encoder, seed=seed, token_encoder=token_encoder, learners=("ranker_linear",)
    )["ranker_linear"]


def fit_and_score_all(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    text_encoder: TextEncoderLike | None,
    seed: int,
    token_encoder: TokenEncoderLike | None = None,
    learners: Sequence[str] = ("ranker", "ranker_linear"),
    grid: Mapping[str, Sequence[Any]] = DEFAULT_GRID,
) -> dict[str, np.ndarray]:
    """Features once, then each learner trained on ``train`` only: name -> one score per ``test`` row.

    ``ranker``: the LightGBM LambdaRanker (``grid`` searched by grouped CV, then refit); ``ranker_linear``: the
    LinearBlend.
    """
    catalog = pd.concat([train, test], ignore_index=True)
    X_train = crowdflower_features(train, text_encoder=text_encoder, catalog=catalog, token_encoder=token_encoder)
    X_test = crowdflower_features(test, text_encoder=text_encoder, catalog=catalog, token_encoder=token_encoder)
    out: dict[str, np.ndarray] = {}
    if "ranker" in learners:
        y = graded_labels(train["median_relevance"].to_numpy()).values
        result = grid_search_cv(X_train, y, train["query"].tolist(), FEATURES.names, grid=grid, seed=seed)
        out["ranker"] = result.ranker.predict(X_test)
    if "ranker_linear" in learners:
        blend = LinearBlend(FEATURES.names).fit(X_train, train["median_relevance"].to_numpy(), train["query"].tolist())
        out["ranker_linear"] = blend.predict(X_test, test["query"].tolist())
    return out
