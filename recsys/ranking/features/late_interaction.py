"""Late interaction (ColBERT-style max-similarity) with a frozen sentence encoder's token vectors.

A sentence cosine compares two averages: a title that names the product asked for among many other words
("number volt lithium ion cordless drill driver kit") or uses a related word ("sofa" for "couch") can sit
far from a short query. Per query WORD, the best-matching word piece of the candidate text is found by cosine
of contextual token vectors (``recsys.ranking.token_vectors``); a word's score is the mean over its pieces of
each piece's maximum. On CrowdFlower's unseen queries ``li_title_mean`` alone ranks as well as the MiniLM
sentence cosine, and the two together rank better than either (docs/ranking.md).

The query's last word is usually its head noun (the product type: "women's running SHOE"); ``li_title_head``
says how well that one word is matched, ``head_in_title`` (text_match) whether it occurs verbatim.
Without token vectors (the catalog's recall does not compute them) every column is NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.ranking.features.inputs import TokenVectors

NAMES: tuple[str, ...] = ("li_title_mean", "li_title_min", "li_title_head", "li_title_cov")


def word_maxsim(query: TokenVectors, text: TokenVectors) -> np.ndarray:
    """float32 [query words]: per query word (in order), the mean over its pieces of each piece's best cosine
    with any piece of ``text``; empty when either side has no pieces."""
    q = np.asarray(query.vectors, dtype=np.float32)
    t = np.asarray(text.vectors, dtype=np.float32)
    if q.size == 0 or t.size == 0:
        return np.zeros(0, dtype=np.float32)
    best = (q @ t.T).max(axis=1)
    _, inverse = np.unique(np.asarray(query.word_ids), return_inverse=True)
    return (np.bincount(inverse, weights=best) / np.bincount(inverse)).astype(np.float32)


def text_coverage(query: TokenVectors, text: TokenVectors) -> float:
    """Mean over the text's pieces of their best cosine with a query piece: how much of the title is about
    the query (a long title about something else scores low even when it also names the query's words)."""
    q = np.asarray(query.vectors, dtype=np.float32)
    t = np.asarray(text.vectors, dtype=np.float32)
    return float((t @ q.T).max(axis=1).mean())


def late_interaction_features(query: TokenVectors | None, titles: Sequence[TokenVectors] | None, n: int) -> np.ndarray:
    """float32 [n, len(NAMES)]: per candidate title, the mean / min / last-word (head) value of
    ``word_maxsim`` over the query words and ``text_coverage``; NaN without token vectors.
    ``word_maxsim`` and ``text_coverage`` are the one-title definitions; this computes the same for the whole list.

    Vectorised over the list: one matrix product of the query pieces with every title piece of every
    candidate, then per-title maxima by ``np.maximum.reduceat`` (200 candidates of 20 pieces: about 3 ms CPU).
    """
    out = np.full((n, len(NAMES)), np.nan, dtype=np.float32)
    if query is None or titles is None or len(query.word_ids) == 0:
        return out
    if len(titles) != n:
        raise ValueError(f"expected {n} title token vectors, got {len(titles)}")
    lengths = np.array([len(t.word_ids) for t in titles], dtype=np.int64)
    has = lengths > 0
    if not has.any():
        return out
    q = np.asarray(query.vectors, dtype=np.float32)
    pieces = np.concatenate([np.asarray(t.vectors, dtype=np.float32) for t in titles if len(t.word_ids)])
    sims = q @ pieces.T  # [query pieces, all title pieces]
    starts = np.concatenate([[0], np.cumsum(lengths[has])[:-1]])
    best = np.maximum.reduceat(sims, starts, axis=1)  # [query pieces, titles with pieces]
    _, inverse = np.unique(np.asarray(query.word_ids), return_inverse=True)
    per_word = (
        np.add.reduceat(
            best[np.argsort(inverse, kind="stable")],
            np.concatenate([[0], np.cumsum(np.bincount(inverse))[:-1]]),
            axis=0,
        )
        / np.bincount(inverse)[:, None]
    )  # [query words, titles]
    coverage = np.add.reduceat(sims.max(axis=0), starts) / lengths[has]
    out[has] = np.stack([per_word.mean(0), per_word.min(0), per_word[-1], coverage], axis=1)
    return out
