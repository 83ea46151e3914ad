"""BM25 lexical index over item texts (titles, descriptions), scored by bm25s.

bm25s builds a static sparse score matrix, so ``add``/``remove`` only edit the stored texts and mark the
index dirty; the next ``search``/``score`` (or an explicit ``refresh()``) rebuilds it. A rebuild tokenizes and
indexes the whole catalog: about a second per 40k short titles on one core, so this suits catalogs up to
~100k items with batched edits. The serving path refreshes a copy before publishing it (see snapshot.py),
so readers never pay for a rebuild.

Arrays follow the FAISS conventions of the vector index: int64 ids, best-first, padded with id -1.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from recsys.index.arrays import PAD_ID, IdSet, as_id_set, as_ids, top_k
from recsys.index.store import load_directory, save_directory
from recsys.index.tokenize import Tokenizer, has_cjk, segmenter_available, stemmer_available
from recsys.index.vocabulary import WORD, Vocabulary

log = logging.getLogger(__name__)

KIND = "bm25"


class BM25Index:
    """``build(ids, texts)``, ``search(query, k, allowed_ids)``, ``score(query, ids)``; lazily rebuilt on edits."""

    def __init__(
        self,
        stemmer: str = "auto",
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
        segmenter: str = "auto",
        translate: bool = True,
    ) -> None:
        self.tokenizer = Tokenizer(stemmer, segmenter, translate)
        self.params: dict[str, Any] = {"k1": k1, "b": b, "method": method}
        self._docs: dict[int, str] = {}
        # (bm25s retriever or None when empty, sorted int64 ids aligned with its documents); replaced as one
        # reference so a concurrent search sees a consistent pair.
        self._built: tuple[bm25s.BM25 | None, np.ndarray] = (None, np.empty(0, dtype=np.int64))
        self._dirty = False
        self._lock = threading.Lock()
        self._vocabulary: tuple[object, Vocabulary] | None = None  # (the _built it was made from, vocabulary)

    # --- edits ---------------------------------------------------------------------------------------
    def build(self, ids: np.ndarray | Sequence[int], texts: Sequence[str]) -> None:
        ids = as_ids(ids)
        if len(texts) != ids.size:
            raise ValueError(f"{ids.size} ids but {len(texts)} texts")
        with self._lock:
            self._docs = {int(i): str(t) for i, t in zip(ids.tolist(), texts)}
            self._rebuild()

    def add(self, ids: np.ndarray | Sequence[int], texts: Sequence[str]) -> None:
        """Insert or replace texts; the index is rebuilt on next use."""
        ids = as_ids(ids)
        if len(texts) != ids.size:
            raise ValueError(f"{ids.size} ids but {len(texts)} texts")
        with self._lock:
            self._docs.update({int(i): str(t) for i, t in zip(ids.tolist(), texts)})
            self._dirty = True

    def remove(self, ids: np.ndarray | Sequence[int]) -> int:
        """Drop ids (unknown ids are ignored); returns how many were removed."""
        with self._lock:
            removed = sum(self._docs.pop(int(i), None) is not None for i in as_ids(ids, unique=False).tolist())
            self._dirty = self._dirty or removed > 0
        return removed

    def refresh(self) -> None:
        """Rebuild now if edits are pending."""
        if self._dirty:
            with self._lock:
                if self._dirty:
                    self._rebuild()

    def _rebuild(self) -> None:
        ids = np.array(sorted(self._docs), dtype=np.int64)
        retriever = None
        tokens = [self.tokenizer(self._docs[i]) for i in ids.tolist()]
        if any(tokens):  # bm25s cannot index a corpus without a single token (e.g. all texts empty)
            retriever = bm25s.BM25(**self.params)
            retriever.index(tokens, show_progress=False)
        self._built = (retriever, ids)
        self._dirty = False

    # --- queries -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._docs)

    def ids(self) -> np.ndarray:
        """All indexed ids, sorted (including edits not yet rebuilt)."""
        return np.array(sorted(self._docs), dtype=np.int64)

    def _all_scores(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        self.refresh()
        retriever, ids = self._built
        # Items' Chinese texts carry their English words; a query's own are added by the search path (query_text).
        tokens = list(dict.fromkeys(self.tokenizer(query, translate=False)))  # a repeated word counts once
        if retriever is None or not tokens:  # bm25s cannot score an empty token list
            return np.zeros(ids.size, dtype=np.float32), ids
        return np.asarray(retriever.get_scores(tokens), dtype=np.float32), ids

    def unknown_words(self, query: str) -> list[str]:
        """The query's words (lowercase, stopwords left out) that no indexed text contains, even once stemmed.

        A dictionary lookup per word: cheap enough to run on every query before deciding to correct it. Words in
        CJK script are never listed: edit distance means nothing for them (segmentation finds their parts)."""
        self.refresh()
        retriever = self._built[0]
        known = retriever.vocab_dict if retriever is not None else {}
        return [
            w
            for w in WORD.findall(query.lower())
            if not has_cjk(w) and (stems := self.tokenizer(w)) and stems[0] not in known
        ]

    def vocabulary(self) -> Vocabulary:
        """The indexed texts' own words with their frequencies (typo correction), built at first use per build."""
        self.refresh()
        built, cached = self._built, self._vocabulary
        if cached is not None and cached[0] is built:
            return cached[1]
        with self._lock:
            vocabulary = Vocabulary(self._docs[i] for i in built[1].tolist())
        self._vocabulary = (built, vocabulary)
        return vocabulary

    def search(
        self, query: str, k: int, allowed_ids: IdSet | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` items containing a query term: ``(scores float32 [k], ids int64 [k])``.

        Items that match no query term are never returned; empty slots hold id -1 and score 0.
        ``allowed_ids`` restricts results to those ids.
        """
        scores, ids = self._all_scores(query)
        scores = np.where(scores > 0, scores, -np.inf)
        if allowed_ids is not None:
            scores[~as_id_set(allowed_ids).contains(ids)] = -np.inf
        return top_k(scores, k, ids, pad_score=0.0)

    def score(self, query: str, ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """BM25 score of each of ``ids`` for ``query`` (float32, same values as ``search``; 0 for unknown ids)."""
        wanted = as_ids(ids, unique=False)
        scores, indexed = self._all_scores(query)
        out = np.zeros(wanted.size, dtype=np.float32)
        if indexed.size:
            pos = np.minimum(np.searchsorted(indexed, wanted), indexed.size - 1)
            hit = indexed[pos] == wanted
            out[hit] = scores[pos[hit]]
        return out

    def copy(self) -> BM25Index:
        """An independent index sharing the built (read-only) retriever until either side is edited."""
        with self._lock:
            other = BM25Index.__new__(BM25Index)
            other.tokenizer = Tokenizer(self.tokenizer.stemmer, self.tokenizer.segmenter, self.tokenizer.translate)
            other.params = dict(self.params)
            other._docs = dict(self._docs)
            other._built = self._built
            other._dirty = self._dirty
            other._lock = threading.Lock()
            other._vocabulary = self._vocabulary  # stays valid while both share _built
        return other

    # --- persistence ---------------------------------------------------------------------------------
    def save(self, directory: str | Path, manifest: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Atomically write the index and its manifest (see store.py); returns the manifest written."""
        self.refresh()
        retriever, ids = self._built
        texts = [self._docs[i] for i in ids.tolist()]

        def write(folder: Path) -> None:
            np.save(folder / "ids.npy", ids)
            (folder / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
            if retriever is not None:
                retriever.save(folder / "bm25", show_progress=False)

        full = dict(manifest or {})
        full.update(
            kind=KIND,
            count=len(ids),
            stemmer=self.tokenizer.stemmer,
            segmenter=self.tokenizer.segmenter,
            translate=self.tokenizer.translate,
            params=self.params,
        )
        return save_directory(directory, write, full)

    @classmethod
    def load(cls, directory: str | Path, expect: Mapping[str, Any] | None = None) -> BM25Index | None:
        """The saved index, or None when missing, corrupt, or differing from ``expect`` (then rebuild)."""
        found = load_directory(directory, expect)
        if found is None:
            return None
        folder, manifest = found
        if manifest.get("kind") != KIND:
            log.warning("%s does not hold a BM25 index", directory)
            return None
        if manifest.get("stemmer") == "english" and not stemmer_available():
            log.warning("%s was built with PyStemmer, which is not installed: rebuild needed", directory)
            return None
        # Indexes saved before Chinese segmentation kept CJK runs whole: rebuild them (a query would split them).
        segmenter = manifest.get("segmenter")
        if segmenter is None or "translate" not in manifest or (segmenter == "rjieba" and not segmenter_available()):
            log.warning("%s was built with segmenter %r, not available here: rebuild needed", directory, segmenter)
            return None
        try:
            ids = np.load(folder / "ids.npy", allow_pickle=False)
            texts = json.loads((folder / "texts.json").read_text(encoding="utf-8"))
            retriever = None
            if ids.size:
                retriever = bm25s.BM25.load(folder / "bm25", mmap=False, show_progress=False, verbosity=0)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("cannot read BM25 index %s: %s", directory, exc)
            return None
        if len(texts) != ids.size or manifest.get("count") != ids.size:
            log.warning("BM25 index %s is inconsistent", directory)
            return None
        index = cls(
            stemmer=manifest["stemmer"], segmenter=segmenter, translate=manifest["translate"], **manifest["params"]
        )
        index._docs = {int(i): t for i, t in zip(ids.tolist(), texts)}
        index._built = (retriever, ids.astype(np.int64, copy=False))
        index._vocabulary = None
        return index


__all__ = ["BM25Index", "PAD_ID"]
