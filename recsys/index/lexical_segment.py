"""One immutable segment of a segmented BM25 index: its items' term frequencies, document lengths and texts.

A segment keeps raw statistics (term frequencies, lengths, per-term document counts), never scores: the index
above it (``segmented_lexical.SegmentedBM25``) scores with catalog-wide statistics, so a document scores the same
whichever segment holds it. Segments are built once (``build`` tokenizes only their own texts) and never edited;
``fold`` joins the live rows of several segments into one without tokenizing again (the merge).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from recsys.index.arrays import as_ids
from recsys.index.tokenize import Tokenizer
from recsys.index.vocabulary import Vocabulary


class LexicalSegment:
    """``ids`` sorted; ``tf`` [docs, terms] term counts (CSR); ``terms`` word -> column; ``lengths`` tokens per doc."""

    def __init__(
        self,
        ids: np.ndarray,
        texts: list[str],
        terms: list[str],
        tf: sp.csr_matrix,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        """``vocabulary``: the texts' typo vocabulary when it is already known (a saved segment), else counted
        from the texts at first use."""
        self.ids = ids
        self.texts = texts
        self.term_list = terms
        self.terms = {t: n for n, t in enumerate(terms)}
        self.tf = tf
        self.lengths = np.asarray(tf.sum(axis=1), dtype=np.float64).ravel()
        self.lengths32 = self.lengths.astype(np.float32)  # what scoring reads (float32, as bm25s)
        self.doc_freq = np.diff(tf.tocsc().indptr).astype(np.int64)  # docs containing each term
        self._extremes: dict[str, tuple[float, float]] = {}
        if vocabulary is not None:
            self.__dict__["vocabulary"] = vocabulary  # the cached_property's slot

    @classmethod
    def build(cls, ids: np.ndarray | Sequence[int], texts: Sequence[str], tokenizer: Tokenizer) -> LexicalSegment:
        ids = as_ids(ids)
        if len(texts) != ids.size:
            raise ValueError(f"{ids.size} ids but {len(texts)} texts")
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        texts = [str(texts[i]) for i in order]
        terms: dict[str, int] = {}
        indptr, indices, counts = [0], list[int](), list[int]()
        for text in texts:
            row: dict[int, int] = {}
            for token in tokenizer(text):
                col = terms.setdefault(token, len(terms))
                row[col] = row.get(col, 0) + 1
            indices.extend(row)
            counts.extend(row.values())
            indptr.append(len(indices))
        tf = sp.csr_matrix(
            (np.asarray(counts, np.float32), np.asarray(indices, np.int64), np.asarray(indptr, np.int64)),
            shape=(ids.size, len(terms)),
        )
        return cls(ids, texts, list(terms), tf)

    def __len__(self) -> int:
        return int(self.ids.size)

    @cached_property
    def columns(self) -> sp.csc_matrix:
        """Term-major copy: a query term's postings are one column slice, rows ascending (score() relies on it)."""
        columns = self.tf.tocsc()
        columns.sort_indices()
        return columns

    @cached_property
    def vocabulary(self) -> Vocabulary:
        """Typo-correction words of this segment's texts (built at first use, once per segment)."""
        return Vocabulary(self.texts)

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id, -1 where this segment lacks it."""
        if self.ids.size == 0:
            return np.full(ids.size, -1, np.int64)
        pos = np.minimum(np.searchsorted(self.ids, ids), self.ids.size - 1)
        return np.where(self.ids[pos] == ids, pos, -1)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, term counts) of the documents holding ``term``."""
        col = self.terms.get(term)
        if col is None:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        m = self.columns
        start, end = m.indptr[col], m.indptr[col + 1]
        return m.indices[start:end].astype(np.int64), m.data[start:end]

    def term_extremes(self, term: str) -> tuple[float, float]:
        """(largest count of ``term`` in a document, shortest document holding it): what bounds the term's score
        in this segment (``SegmentedBM25._term_bound``). Made once per term; the segment never changes."""
        found = self._extremes.get(term)
        if found is None:
            rows, tf = self.postings(term)
            found = (float(tf.max()), float(self.lengths[rows].min())) if rows.size else (0.0, 1.0)
            self._extremes[term] = found  # concurrent first uses compute the same pair
        return found

    def term_counts(self, rows: np.ndarray) -> dict[str, int]:
        """How many of ``rows`` hold each term (what removing those documents takes from the global counts)."""
        sub = self.tf[rows]
        cols, n = np.unique(sub.indices, return_counts=True)
        return {self.term_list[c]: int(k) for c, k in zip(cols.tolist(), n.tolist())}


def fold(segments: Sequence[LexicalSegment], dead: Sequence[np.ndarray]) -> LexicalSegment:
    """One segment holding the live rows of ``segments`` (``dead[i]``: ids removed from segment i), by id.

    Term columns are remapped into one vocabulary and the rows stacked: no text is tokenized again."""
    terms: dict[str, int] = {}
    blocks, ids, texts = [], [], list[str]()
    for segment, gone in zip(segments, dead):
        keep = np.flatnonzero(~np.isin(segment.ids, gone))
        remap = np.array([terms.setdefault(t, len(terms)) for t in segment.term_list], np.int64)
        sub = segment.tf[keep].tocoo()
        blocks.append((sub.row, remap[sub.col] if sub.nnz else sub.col.astype(np.int64), sub.data, keep.size))
        ids.append(segment.ids[keep])
        texts.extend(segment.texts[i] for i in keep.tolist())
    offset, rows, cols, data = 0, [], [], []
    for row, col, values, n in blocks:
        rows.append(row + offset)
        cols.append(col)
        data.append(values)
        offset += n
    all_ids = np.concatenate(ids) if ids else np.empty(0, np.int64)
    order = np.argsort(all_ids, kind="stable")
    where = np.empty_like(order)
    where[order] = np.arange(order.size)
    tf = sp.csr_matrix(
        (
            np.concatenate(data) if data else np.empty(0, np.float32),
            (where[np.concatenate(rows)] if rows else np.empty(0, np.int64), np.concatenate(cols) if cols else []),
        ),
        shape=(all_ids.size, len(terms)),
    )
    return LexicalSegment(all_ids[order], [texts[i] for i in order.tolist()], list(terms), tf)
