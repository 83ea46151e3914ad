"""Query-item lexical match features that BM25 alone does not carry.

BM25 sums term weights, so it cannot say "every query word is in the title", "the words come in order",
"the product type (last query word) is there" or "the colour asked for differs from the item's colour".
LambdaRank learns from those directly. One row per candidate; NaN where a feature is undefined (LightGBM
routes missing values on its own).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.ranking.features.tokens import COLOURS, SIZES, attribute_tokens, char_trigrams, item_text, tokenize

NAMES: tuple[str, ...] = (
    "query_len",
    "title_len",
    "desc_len_log",
    "desc_missing",
    "title_cov",
    "desc_cov",
    "any_cov",
    "title_fuzzy_cov",
    "title_phrase",
    "desc_phrase",
    "title_bigram_cov",
    "head_in_title",
    "head_in_desc",
    "title_first_match_pos",
    "title_jaccard",
    "desc_jaccard",
    "title_char_jaccard",
    "query_attr_count",
    "attr_title_match",
    "attr_desc_match",
    "attr_conflict",
)


def _fuzzy_terms(terms: set[str]) -> list[tuple[str, str, frozenset[str]]]:
    """Per query term, once per query: (term, " term", its 4+ char proper prefixes) for ``_fuzzy_hits``."""
    return [(t, f" {t}", frozenset(t[:k] for k in range(4, len(t)))) for t in terms]


def _fuzzy_hits(terms: list[tuple[str, str, frozenset[str]]], words: frozenset[str], joined: str) -> int:
    """Terms present exactly or up to a stemmer's tail ("christma" / "christmas"): one word is a 4+ char
    prefix of the other. ``joined`` is " w1 w2 ... " so "term is a word prefix" is one substring search."""
    hits = 0
    for term, spaced, prefixes in terms:
        if term in words or (len(term) >= 4 and (spaced in joined or not prefixes.isdisjoint(words))):
            hits += 1
    return hits


def _conflict(query_set: set[str], title_set: frozenset[str]) -> float:
    # 1 when the query names a colour/size and the title names a different one of the same vocabulary.
    for vocab in (COLOURS, SIZES):
        asked, offered = query_set & vocab, title_set & vocab
        if asked and offered and not (asked & offered):
            return 1.0
    return 0.0


def text_match_features(query: str, titles: Sequence[str], descriptions: Sequence[str]) -> np.ndarray:
    """float32 [n, len(NAMES)] for one query against n candidates (titles/descriptions aligned)."""
    q = tokenize(query)
    q_set, q_bigrams, q_attr = set(q), set(zip(q, q[1:])), attribute_tokens(q)
    q_trigrams = char_trigrams(" ".join(q))
    phrase = f" {' '.join(q)} "
    head = q[-1] if q else ""
    nan, nq = float("nan"), len(q_set)
    q_fuzzy = _fuzzy_terms(q_set)
    rows = []
    for title, desc in zip(titles, descriptions):
        ti, di = item_text(title or ""), item_text(desc or "")
        t, t_set, d_set = ti.tokens, ti.words, di.words
        row = [len(q), len(t), np.log1p(len(di.tokens)), float(not di.tokens)] + [nan] * (len(NAMES) - 4)
        if nq:
            in_t, in_d = len(q_set & t_set), len(q_set & d_set)
            first = next((j for j, w in enumerate(t) if w in q_set), None)
            in_tri = len(q_trigrams & ti.trigrams)
            # |A | B| = |A| + |B| - |A & B|: the unions are never built (they were most of the time here).
            row[4:17] = [
                in_t / nq,
                in_d / nq,
                (in_t + len((q_set - t_set) & d_set)) / nq,
                _fuzzy_hits(q_fuzzy, t_set, ti.joined) / nq,
                phrase in ti.joined,
                phrase in di.joined,
                nan,
                head in t_set,
                head in d_set,
                first / max(len(t), 1) if first is not None else 1.0,
                in_t / (nq + len(t_set) - in_t),
                in_d / (nq + len(d_set) - in_d),
                in_tri / max(len(q_trigrams) + len(ti.trigrams) - in_tri, 1),
            ]
        if q_bigrams:
            row[10] = len(q_bigrams & ti.bigrams) / len(q_bigrams)
        row[17] = len(q_attr)
        if q_attr:
            row[18], row[19] = len(q_attr & t_set) / len(q_attr), len(q_attr & d_set) / len(q_attr)
        row[20] = _conflict(q_set, t_set)
        rows.append(row)
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(NAMES))
