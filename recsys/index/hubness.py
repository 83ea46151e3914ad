"""Hubness reduction at query time: CSLS (cross-domain similarity local scaling, Conneau et al. 2018).

In a joint image/text space a few corpus vectors ("hubs") sit near many queries and crowd every top 10; CSLS
lowers each corpus vector's score by its mean similarity to its ``k`` nearest reference queries, so a hub must
beat its own neighbourhood to rank. numpy in, numpy out; rows are expected L2-normalised (cosine = dot)."""

from __future__ import annotations

import numpy as np

DEFAULT_K = 10


def mean_top_k(sim: np.ndarray, k: int) -> np.ndarray:
    """Mean of the ``k`` largest values of each row (all of them when a row has fewer)."""
    k = max(1, min(k, sim.shape[1]))
    top = np.partition(sim, sim.shape[1] - k, axis=1)[:, sim.shape[1] - k :]
    return top.mean(axis=1)


def csls_scores(queries: np.ndarray, corpus: np.ndarray, reference: np.ndarray, k: int = DEFAULT_K) -> np.ndarray:
    """(queries x corpus) CSLS scores: 2 cos(q, x) - r(x) - r(q), with r(x) the mean cosine of corpus row x to
    its ``k`` nearest ``reference`` rows (a bank of query-side vectors, e.g. the catalog's titles) and r(q) the
    mean cosine of query q to its ``k`` nearest corpus rows."""
    if queries.ndim != 2 or corpus.ndim != 2 or reference.ndim != 2:
        raise ValueError("csls_scores: queries, corpus and reference must be 2-d arrays")
    if not (queries.shape[1] == corpus.shape[1] == reference.shape[1]):
        raise ValueError(
            f"csls_scores: dimensions differ (queries {queries.shape[1]}, corpus {corpus.shape[1]}, "
            f"reference {reference.shape[1]})"
        )
    if len(reference) == 0 or len(corpus) == 0:
        raise ValueError("csls_scores: the corpus and the reference bank must not be empty")
    sim = queries @ corpus.T
    hub = mean_top_k(corpus @ reference.T, k)
    return 2.0 * sim - hub[None, :] - mean_top_k(sim, k)[:, None]
