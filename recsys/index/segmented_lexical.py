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

Cost: a query reads only its terms' postings, never a per-document array of the whole catalog (but for a bool row
mask per filter and segment, made once when a long term is first filtered by it), and a search skips the long
postings of common words (a gender, a colour: half a million rows at a million items) whenever the rarer terms alone
settle the top k (MaxScore, ``_segment_best``). Every path sums a document's terms in one order, so
``hits``, ``search`` and ``score`` give it the same float32 score.
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
# A term whose postings hold over 1/SKIP_RATIO of a segment's rows is read only when the terms before it cannot settle
# the top k without it (``SegmentedBM25._segment_best``); shorter ones are cheaper to sum than to check.
SKIP_RATIO = 256
ROW_MASKS = 8  # (segment, filter) row masks a snapshot keeps (a bool per row each)
Postings = list[tuple[str, np.ndarray, np.ndarray]]  # (term, rows, term counts) per query term


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
        # (segment, long term) -> each posting's tf part: it depends on the mean length, so it lives with this
        # snapshot (an edit's new one carries it while that mean holds: ``_with``). Only terms over 1/SKIP_RATIO of
        # a segment are kept: at most SKIP_RATIO x a document's terms of them, 4 bytes per posting (11 MB at a
        # million items: ``warm``).
        self._long_parts: dict[tuple[int, str], np.ndarray] = {}
        # (segment, filter) -> (the filter, its rows' live-and-allowed mask) for the last few filters a long term was
        # checked against: one O(segment) pass per filter (as the vector index's mask) instead of an id lookup and a
        # tombstone search per long posting per query
        self._row_masks: dict[tuple[int, int], tuple[IdSet | None, np.ndarray]] = {}

    @classmethod
    def build(cls, ids: np.ndarray | Sequence[int], texts: Sequence[str], **kwargs) -> SegmentedBM25:
        """One base segment over ``texts`` (a full build)."""
        tokenizer = kwargs.pop("tokenizer", None) or Tokenizer()
        built = cls([LexicalSegment.build(ids, texts, tokenizer)], tokenizer=tokenizer, **kwargs)
        built.warm()
        return built

    def warm(self) -> None:
        """Compute every long term's tf parts now, as each term's first query would (0.12 s for 208 terms at a
        million items): for a full build, a merge or a restart, which cost O(catalog) anyway. Queries right after
        then pay no first-use cost; an edit's new snapshot keeps them while the mean length holds (``_with``)."""
        for segment in self.segments:
            for term, docs in zip(segment.term_list, segment.doc_freq.tolist()):
                if docs * SKIP_RATIO > len(segment) and (id(segment), term) not in self._long_parts:
                    self._long_parts[(id(segment), term)] = self._tf_part(segment, *segment.postings(term))

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
        """A new snapshot. A tf part depends on its segment, k1, b and the mean document length only, so the parts
        of the segments both hold carry over while that float32 mean is unchanged (an update that keeps the text's
        length, as a price or stock edit does): bitwise what the new snapshot would compute."""
        made = SegmentedBM25(segments, dead, self.tokenizer, k1=self.k1, b=self.b, stats=stats)
        if self._long_parts and len(made) and made._avgdl() == self._avgdl():
            kept = {id(s) for s in segments} & {id(s) for s in self.segments}  # live objects: their ids are unique
            made._long_parts = {key: parts for key, parts in self._long_parts.items() if key[0] in kept}
        return made

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
        """(ids, scores) of the live documents holding a query term, in no particular order: every posting read."""
        idf = self._idf(query)
        ids, scores = [EMPTY], [np.empty(0, np.float32)]
        for segment, gone in zip(self.segments, self.dead):
            postings = self._postings(idf, segment)
            if postings:
                rows, acc = self._live(segment, gone, None, *self._summed(idf, segment, postings))
                ids.append(segment.ids[rows])
                scores.append(acc)
        return np.concatenate(ids), np.concatenate(scores)

    def search(
        self, query: str, k: int, allowed_ids: IdSet | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` items containing a query term: ``(scores float32 [k], ids int64 [k])``, as ``BM25Index``.

        The same answer as ranking every hit, but a term holding a large share of a segment (a gender or colour
        word) is read only when the other terms cannot settle that segment's top ``k`` (``_segment_best``)."""
        idf = self._idf(query)
        allowed = None if allowed_ids is None else as_id_set(allowed_ids)
        ids, scores = [EMPTY], [np.empty(0, np.float32)]
        for segment, gone in zip(self.segments, self.dead):
            postings = self._postings(idf, segment)
            if postings and k > 0:
                found_ids, found_scores = self._segment_best(idf, segment, gone, postings, k, allowed)
                ids.append(found_ids)
                scores.append(found_scores)
        return top_k(np.concatenate(scores), k, np.concatenate(ids), pad_score=0.0)

    def score(self, query: str, ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """BM25 score of each of ``ids`` (0 for ids holding no query term or not indexed), the same float32 as
        ``hits`` gives them, found by binary search in each term's postings: O(ids x terms x log postings), so the
        ranker's feature for 100 candidates never reads a million postings."""
        wanted = as_ids(ids, unique=False)
        out = np.zeros(wanted.size, np.float32)
        idf = self._idf(query)
        if not idf or wanted.size == 0:
            return out
        for segment, gone in zip(self.segments, self.dead):
            rows = segment.rows_of(wanted)
            live = (rows >= 0) & ~np.isin(wanted, gone) if gone.size else rows >= 0
            if live.any():  # a live id is in exactly one segment
                asked = rows[live]
                out[live] = self._added(
                    idf, segment, asked, np.zeros(asked.size, np.float32), self._postings(idf, segment)
                )
        return out

    # --- scoring: one formula and one order of terms for hits, search and score -----------------------
    def _idf(self, query: str) -> dict[str, np.float32]:
        """The query's indexed terms (each once, in query order) with their catalog-wide idf."""
        n, _, df = self.stats
        tokens = list(dict.fromkeys(self.tokenizer(query, translate=False)))  # a repeated word counts once
        return {t: np.float32(math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))) for t in tokens if df.get(t, 0) > 0}

    def _avgdl(self) -> np.float32:
        n, total, _ = self.stats
        return np.float32(total / n)

    def _term_part(self, idf: np.float32, segment: LexicalSegment, rows: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """One term's share of the score of ``rows`` holding it ``tf`` times."""
        return idf * self._tf_part(segment, rows, tf)

    def _tf_part(self, segment: LexicalSegment, rows: np.ndarray, tf: np.ndarray) -> np.ndarray:
        k1, b = np.float32(self.k1), np.float32(self.b)
        norm = k1 * ((1 - b) + b * (segment.lengths32[rows] / self._avgdl()))
        return tf / (norm + tf)

    def _posting_parts(
        self, idf: dict[str, np.float32], segment: LexicalSegment, term: str, rows: np.ndarray, tf: np.ndarray
    ) -> np.ndarray:
        """``_term_part`` of a term's whole postings; a long term's tf parts are computed once per snapshot (a
        common word's postings are re-read by every query naming it; the same float32 as computing them anew)."""
        if rows.size * SKIP_RATIO <= len(segment):
            return self._term_part(idf[term], segment, rows, tf)
        key = (id(segment), term)
        parts = self._long_parts.get(key)
        if parts is None:
            parts = self._long_parts[key] = self._tf_part(segment, rows, tf)
        return idf[term] * parts

    def _term_bound(self, idf: np.float32, segment: LexicalSegment, term: str) -> float:
        """More than any row of ``segment`` can get from ``term``: the share grows with tf and falls with the
        document's length, so its largest tf over its shortest document bounds it (a 1e-4 margin covers float32
        rounding of the scores it is compared with)."""
        most_tf, shortest = segment.term_extremes(term)
        norm = self.k1 * ((1 - self.b) + self.b * shortest / float(self._avgdl()))
        return float(idf) * most_tf / (most_tf + norm) * (1 + 1e-4)

    @staticmethod
    def _postings(idf: dict[str, np.float32], segment: LexicalSegment) -> Postings:
        """The query terms' postings in ``segment``, shortest first: the order every score is summed in, so the
        short terms' partial sums are a prefix of the full ones (``_segment_best`` relies on it)."""
        postings = [(t, *segment.postings(t)) for t in idf]
        return sorted(((t, rows, tf) for t, rows, tf in postings if rows.size), key=lambda p: p[1].size)

    def _summed(
        self, idf: dict[str, np.float32], segment: LexicalSegment, postings: Postings
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the rows holding any of ``postings``' terms, added in order: only the postings are
        read, O(postings), not O(segment)."""
        pieces = [(rows, self._posting_parts(idf, segment, term, rows, tf)) for term, rows, tf in postings]
        return _pieces_sum(pieces, len(segment))

    def _added(
        self, idf: dict[str, np.float32], segment: LexicalSegment, rows: np.ndarray, acc: np.ndarray, postings: Postings
    ) -> np.ndarray:
        """``acc`` (partial scores of ``rows``) plus ``postings``' terms, by binary search in each (rows sorted:
        ``segment.columns``): the rows asked about cost O(rows x log postings), not the postings' length."""
        for term, holding, tf in postings:
            pos = np.minimum(np.searchsorted(holding, rows), holding.size - 1)
            hit = holding[pos] == rows
            acc[hit] += self._term_part(idf[term], segment, rows[hit], tf[pos[hit]])
        return acc

    def _live(
        self, segment: LexicalSegment, gone: np.ndarray, allowed: IdSet | None, rows: np.ndarray, acc: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows neither tombstoned nor filtered out."""
        if not gone.size and allowed is None:
            return rows, acc
        mask = self._row_mask(segment, gone, allowed, rows.size)
        if mask is not None:
            keep = mask[rows]
            return rows[keep], acc[keep]
        if gone.size:
            keep = ~np.isin(segment.ids[rows], gone)
            rows, acc = rows[keep], acc[keep]
        if allowed is not None:
            keep = allowed.contains(segment.ids[rows])
            rows, acc = rows[keep], acc[keep]
        return rows, acc

    def _row_mask(
        self, segment: LexicalSegment, gone: np.ndarray, allowed: IdSet | None, checked: int
    ) -> np.ndarray | None:
        """Live-and-allowed mask over ``segment``'s rows: the cached one for this filter, else made when ``checked``
        rows are a long term's (over 1/SKIP_RATIO of the segment), else None (checking them directly is cheaper)."""
        key = (id(segment), id(allowed))
        found = self._row_masks.get(key)
        if found is not None and found[0] is allowed:
            return found[1]
        if checked * SKIP_RATIO <= len(segment):
            return None
        mask = np.ones(len(segment), bool) if allowed is None else allowed.contains(segment.ids)
        dead = segment.rows_of(gone)
        mask[dead[dead >= 0]] = False
        self._row_masks[key] = (allowed, mask)  # the filter is held, so its id is not reused while the key lives
        if len(self._row_masks) > ROW_MASKS:  # the newest kept; swapped whole, so concurrent searches at worst redo one
            self._row_masks = dict(list(self._row_masks.items())[-ROW_MASKS:])
        return mask

    def _segment_best(
        self,
        idf: dict[str, np.float32],
        segment: LexicalSegment,
        gone: np.ndarray,
        postings: Postings,
        k: int,
        allowed: IdSet | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of live, allowed rows of ``segment`` that hold its share of the top ``k``.

        MaxScore, term by term: the short postings are summed first; before each long term (over 1/SKIP_RATIO of
        the segment's rows), theta is the k-th best partial score so far. A row holding none of the terms summed
        scores under the sum of the remaining terms' bounds, so once theta exceeds that sum no such row can enter
        the top ``k``, and a row already found only if its partial score plus the sum exceeds theta: those few get
        the remaining terms' shares by binary search, and the remaining long postings are never read. Otherwise
        the long term is added and the check repeats before the next one (a query of several common words is
        settled by its rarer ones: "lotto men white sports shoes" reads "lotto" and "men", not 90k postings).
        A long term's postings are filtered (tombstones, ``allowed``) before they are added, so every posting is
        checked once and the running sums hold live, allowed rows only."""
        bounds = [self._term_bound(idf[term], segment, term) for term, _, _ in postings]
        split = sum(rows.size * SKIP_RATIO <= len(segment) for _, rows, _ in postings)  # shortest first
        rows, acc = self._live(segment, gone, allowed, *self._summed(idf, segment, postings[:split]))
        for j in range(split, len(postings)):
            rest = sum(bounds[j:])
            if np.count_nonzero(acc > rest) >= k:  # theta > rest, known before theta is found (a partition)
                theta = np.partition(acc, rows.size - k)[rows.size - k]
                keep = acc + np.float32(rest) > theta
                found = rows[keep]
                return segment.ids[found], self._added(idf, segment, found, acc[keep], postings[j:])
            term, term_rows, tf = postings[j]
            part = self._live(segment, gone, allowed, term_rows, self._posting_parts(idf, segment, term, term_rows, tf))
            rows, acc = _pieces_sum([(rows, acc), part] if rows.size else [part], len(segment))
        return segment.ids[rows], acc

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


def _pieces_sum(pieces: list[tuple[np.ndarray, np.ndarray]], segment_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, sums) of (rows ascending, values) pieces, each row's values added in the pieces' order."""
    if len(pieces) == 1:  # one term's postings are already the hits
        return pieces[0]
    if not pieces:
        return EMPTY, np.empty(0, np.float32)
    if sum(rows.size for rows, _ in pieces) * SPARSE_SUM_RATIO < segment_rows:  # few: merge them
        return _merged_sum(pieces)
    dense = np.zeros(segment_rows, np.float32)  # postings covering much of the segment: one dense pass
    for rows, part in pieces:
        dense[rows] += part  # rows are unique within one piece
    hit = np.flatnonzero(dense > 0)
    return hit, dense[hit]


def _merged_sum(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, sums) of several (rows ascending, values) pieces, each row's values added in the pieces' order.

    A stable sort of the concatenation merges the already sorted pieces (timsort finds the runs: ~4x faster than
    ``np.unique``'s sort at 60k postings); the sums are then taken level by level (a row's first value, plus its
    second, ...), so every row is summed left to right in float32 exactly as ``np.add.at`` or the dense pass would."""
    rows = np.concatenate([r for r, _ in pieces])
    values = np.concatenate([v for _, v in pieces])
    if not rows.size:
        return EMPTY, np.empty(0, np.float32)
    order = np.argsort(rows, kind="stable")
    rows, values = rows[order], values[order]
    starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
    counts = np.diff(np.append(starts, rows.size))
    acc = values[starts].astype(np.float32)
    for level in range(1, int(counts.max(initial=1))):
        more = np.flatnonzero(counts > level)
        acc[more] += values[starts[more] + level]
    return rows[starts], acc


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
