"""BM25 over immutable segments with tombstones, scored with catalog-wide statistics (the segmented index's text
part; see docs/scale.md, "Segmented index").

A snapshot is a tuple of ``LexicalSegment``s plus, per segment, the ids deleted from it (tombstones). An edit
returns a new snapshot: the edited items' texts become one new small segment and their old rows are tombstoned;
nothing else is read or tokenized. ``merged()`` folds every segment into one (the background merge).

Why global statistics: BM25's idf and average document length come from the whole live collection (document
counts summed over segments, less the tombstoned documents' own counts), so a document scores exactly what a
full rebuild would give it, whichever segment holds it, and scores of different segments compare. Per-segment
statistics (Lucene's default) would rank a new item by its small segment's idf until the next merge. The counts
are a dict over the vocabulary (copied per edit: O(vocabulary), not O(catalog)).

Scoring is bm25s's "lucene" variant, as ``BM25Index`` uses: idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
tf part = tf / (tf + k1 (1 - b + b dl / avgdl)), in float32. Same API as ``BM25Index`` for the search path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from recsys.index.arrays import IdSet, as_id_set, as_ids, top_k
from recsys.index.layered_vocabulary import LayeredVocabulary, text_words
from recsys.index.lexical_segment import LexicalSegment, fold
from recsys.index.tokenize import Tokenizer, has_cjk
from recsys.index.vocabulary import WORD, Vocabulary

EMPTY = np.empty(0, np.int64)
# Several terms' postings are summed by sorting them when they touch under 1/SPARSE_SUM_RATIO of a segment's rows,
# else in a dense per-row array (sorting P rows costs ~P log P; the dense pass ~N / 8 of that per row).
SPARSE_SUM_RATIO = 16


class SegmentedBM25:
    def __init__(
        self,
        segments: Sequence[LexicalSegment] = (),
        dead: Sequence[np.ndarray] | None = None,
        tokenizer: Tokenizer | None = None,
        k1: float = 1.5,
        b: float = 0.75,
        stats: tuple[int, float, dict[str, int]] | None = None,
    ) -> None:
        self.tokenizer = tokenizer or Tokenizer()
        self.k1, self.b = float(k1), float(b)
        self.params: dict[str, Any] = {"k1": self.k1, "b": self.b, "method": "lucene"}
        self.segments = tuple(segments)
        self.dead = tuple(dead) if dead is not None else tuple(EMPTY for _ in self.segments)
        if len(self.dead) != len(self.segments):
            raise ValueError("one tombstone array per segment")
        # (live documents, their summed lengths, term -> live documents holding it)
        self.stats = stats if stats is not None else _stats(self.segments, self.dead)
        self._last_hits: tuple[str, tuple[np.ndarray, np.ndarray]] | None = None

    @classmethod
    def build(cls, ids: np.ndarray | Sequence[int], texts: Sequence[str], **kwargs) -> SegmentedBM25:
        """One base segment over ``texts`` (a full build)."""
        tokenizer = kwargs.pop("tokenizer", None) or Tokenizer()
        return cls([LexicalSegment.build(ids, texts, tokenizer)], tokenizer=tokenizer, **kwargs)

    # --- edits: each returns a new snapshot --------------------------------------------------------
    def edited(
        self, add_ids: np.ndarray | Sequence[int], add_texts: Sequence[str], remove_ids: np.ndarray | Sequence[int]
    ) -> SegmentedBM25:
        """Items ``add_ids`` inserted or replaced (update = tombstone + add), ``remove_ids`` deleted."""
        add_ids = as_ids(add_ids)
        gone = np.union1d(as_ids(remove_ids, unique=False), add_ids)
        n, total, df = self.stats
        df = dict(df)
        dead = []
        for segment, old in zip(self.segments, self.dead):
            rows = segment.rows_of(gone)
            rows = rows[rows >= 0]
            rows = rows[~np.isin(segment.ids[rows], old)]
            if rows.size:
                n -= rows.size
                total -= float(segment.lengths[rows].sum())
                for term, count in segment.term_counts(rows).items():
                    df[term] -= count
                    if df[term] <= 0:
                        del df[term]
                old = np.union1d(old, segment.ids[rows])
            dead.append(old)
        segments = list(self.segments)
        if add_ids.size:
            fresh = LexicalSegment.build(add_ids, add_texts, self.tokenizer)
            segments.append(fresh)
            dead.append(EMPTY)
            n += len(fresh)
            total += float(fresh.lengths.sum())
            for term, count in zip(fresh.term_list, fresh.doc_freq.tolist()):
                df[term] = df.get(term, 0) + count
        return self._with(segments, dead, (n, total, df))

    def merged(self, upto: int | None = None) -> SegmentedBM25:
        """The first ``upto`` segments (all by default) folded into one base, tombstones applied."""
        upto = len(self.segments) if upto is None else upto
        if upto <= 1 and not any(d.size for d in self.dead[:upto]):
            return self
        base = fold(self.segments[:upto], self.dead[:upto])
        return self._with([base, *self.segments[upto:]], [EMPTY, *self.dead[upto:]], self.stats)

    def _with(self, segments, dead, stats) -> SegmentedBM25:
        return SegmentedBM25(segments, dead, self.tokenizer, k1=self.k1, b=self.b, stats=stats)

    def refresh(self) -> None:
        """Nothing is ever pending: segments are built when the edit is made (``BM25Index`` API)."""

    # --- queries -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.stats[0])

    def delta_items(self) -> int:
        """Documents outside the base segment plus tombstones: what a merge would fold."""
        return sum(len(s) for s in self.segments[1:]) + sum(int(d.size) for d in self.dead)

    def ids(self) -> np.ndarray:
        parts = [s.ids[~np.isin(s.ids, d)] for s, d in zip(self.segments, self.dead)]
        return np.sort(np.concatenate(parts)) if parts else EMPTY.copy()

    def texts(self, ids: np.ndarray) -> list[str]:
        """Indexed texts of ``ids`` (live ones; KeyError for others)."""
        out: dict[int, str] = {}
        for segment, gone in zip(self.segments, self.dead):
            rows = segment.rows_of(ids)
            live = (rows >= 0) & ~np.isin(ids, gone)
            for i, r in zip(ids[live].tolist(), rows[live].tolist()):
                out[i] = segment.texts[r]
        return [out[int(i)] for i in ids.tolist()]

    def hits(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the live documents holding a query term, in no particular order (read-only arrays).

        The last query's answer is kept: a search asks ``search`` and then ``score`` for its candidates' features
        with the same text. The snapshot is immutable, so the pair stays right; one tuple is swapped whole, so
        concurrent searches at worst recompute."""
        last = self._last_hits
        if last is not None and last[0] == query:
            return last[1]
        found = self._hits(query)
        for array in found:
            array.flags.writeable = False
        self._last_hits = (query, found)
        return found

    def _idf(self, query: str) -> dict[str, np.float32]:
        """The query's indexed terms (each once, in query order) with their catalog-wide idf."""
        n, _, df = self.stats
        tokens = list(dict.fromkeys(self.tokenizer(query, translate=False)))  # a repeated word counts once
        return {t: np.float32(math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))) for t in tokens if df.get(t, 0) > 0}

    def _term_part(self, idf: np.float32, segment: LexicalSegment, rows: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """One term's share of the score of ``rows`` holding it ``tf`` times (the one formula hits and score use)."""
        n, total, _ = self.stats
        k1, b = np.float32(self.k1), np.float32(self.b)
        norm = k1 * ((1 - b) + b * (segment.lengths32[rows] / np.float32(total / n)))
        return idf * (tf / (norm + tf))

    def _hits(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        idf = self._idf(query)
        if not idf or self.stats[0] == 0:
            return EMPTY.copy(), np.empty(0, np.float32)
        ids, scores = [], []
        for segment, gone in zip(self.segments, self.dead):
            # Only the postings are read (O(postings), not O(segment)): a million-item base costs what its
            # matching documents cost. One term's postings are already the hits; several are summed per row.
            postings = [(t, *segment.postings(t)) for t in idf]
            postings = [(t, rows, tf) for t, rows, tf in postings if rows.size]
            if not postings:
                continue
            contribution = [self._term_part(idf[term], segment, rows, tf) for term, rows, tf in postings]
            touched = sum(rows.size for _, rows, _ in postings)
            if len(postings) == 1:
                hit, acc = postings[0][1], contribution[0]
            elif touched * SPARSE_SUM_RATIO < len(segment):  # few postings: sort them, O(P log P)
                hit, where = np.unique(np.concatenate([rows for _, rows, _ in postings]), return_inverse=True)
                acc = np.zeros(hit.size, np.float32)
                np.add.at(acc, where, np.concatenate(contribution))
            else:  # postings covering much of the segment: one dense pass beats sorting them
                dense = np.zeros(len(segment), np.float32)
                for (_, rows, _), part in zip(postings, contribution):
                    dense[rows] += part  # rows are unique within one term
                hit = np.flatnonzero(dense > 0)
                acc = dense[hit]
            hit_ids = segment.ids[hit]
            if gone.size:
                live = ~np.isin(hit_ids, gone)
                hit_ids, acc = hit_ids[live], acc[live]
            ids.append(hit_ids)
            scores.append(acc.astype(np.float32, copy=False))
        if not ids:
            return EMPTY.copy(), np.empty(0, np.float32)
        return np.concatenate(ids), np.concatenate(scores)

    def search(
        self, query: str, k: int, allowed_ids: IdSet | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` items containing a query term: ``(scores float32 [k], ids int64 [k])``, as ``BM25Index``."""
        ids, scores = self.hits(query)
        if allowed_ids is not None:
            keep = as_id_set(allowed_ids).contains(ids)
            ids, scores = ids[keep], scores[keep]
        return top_k(scores, k, ids, pad_score=0.0)

    def score(self, query: str, ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """BM25 score of each of ``ids`` (0 for ids holding no query term or not indexed), the same float32 as
        ``hits`` gives them (terms summed in the same order), found by binary search in each term's postings:
        O(ids x terms x log postings), so the ranker's feature for 100 candidates never reads a million postings."""
        wanted = as_ids(ids, unique=False)
        out = np.zeros(wanted.size, np.float32)
        idf = self._idf(query)
        if not idf or self.stats[0] == 0 or wanted.size == 0:
            return out
        for segment, gone in zip(self.segments, self.dead):
            rows = segment.rows_of(wanted)
            live = (rows >= 0) & ~np.isin(wanted, gone) if gone.size else rows >= 0
            if not live.any():
                continue
            asked = rows[live]
            acc = np.zeros(asked.size, np.float32)
            for term in idf:
                holding, tf = segment.postings(term)  # rows sorted (segment.columns)
                if not holding.size:
                    continue
                pos = np.minimum(np.searchsorted(holding, asked), holding.size - 1)
                hit = holding[pos] == asked
                acc[hit] += self._term_part(idf[term], segment, asked[hit], tf[pos[hit]])
            out[live] = acc  # a live id is in exactly one segment
        return out

    def unknown_words(self, query: str) -> list[str]:
        """The query's words no live text contains, even once stemmed (as ``BM25Index.unknown_words``)."""
        df = self.stats[2]
        return [
            w
            for w in WORD.findall(query.lower())
            if not has_cjk(w) and (stems := self.tokenizer(w)) and df.get(stems[0], 0) <= 0
        ]

    def vocabulary(self) -> Vocabulary:
        return self._vocabulary

    @cached_property
    def _vocabulary(self) -> Vocabulary:
        removed: Counter[str] = Counter()
        for segment, gone in zip(self.segments, self.dead):
            if gone.size:
                removed.update(text_words(segment.texts[r] for r in segment.rows_of(gone).tolist()))
        return LayeredVocabulary([s.vocabulary for s in self.segments], removed)


def _stats(segments: Sequence[LexicalSegment], dead: Sequence[np.ndarray]) -> tuple[int, float, dict[str, int]]:
    n, total, df = 0, 0.0, dict[str, int]()
    for segment, gone in zip(segments, dead):
        rows = np.flatnonzero(~np.isin(segment.ids, gone))
        n += rows.size
        total += float(segment.lengths[rows].sum())
        counts = (
            zip(segment.term_list, segment.doc_freq.tolist())
            if rows.size == len(segment)
            else segment.term_counts(rows).items()
        )
        for term, count in counts:
            if count:
                df[term] = df.get(term, 0) + count
    return n, total, df
