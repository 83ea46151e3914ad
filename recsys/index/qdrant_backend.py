"""Qdrant behind ``IndexBackend``: one collection with a dense cosine vector and a sparse BM25 vector per item.

``url`` names the engine: ``http(s)://host:6333`` a Qdrant server or cluster (the collection is created sharded
and replicated there, see docs/deployment.md), ``:memory:`` or a folder qdrant-client's embedded local mode (tests,
CI; no server). Filters become Qdrant payload filters, evaluated by the engine next to the vector search.

BM25 on Qdrant: Qdrant keeps the inverse document frequency itself (sparse vector ``modifier=IDF``, updated as points
come and go); each document's sparse vector holds the BM25 term-frequency part in Lucene's form (as bm25s's "lucene"
method), ``tf / (tf + k1 * (1 - b + b * len / avg_len))``, over this package's tokenizer (the same stems as the
embedded BM25), with ``avg_len`` fixed by the collection's first batch (kept in each point's payload) so stored
vectors never need rewriting. With the same average length the scores equal bm25s's; after edits they drift a little
from them, as bm25s uses the live average length. Token ids are a stable 31-bit hash of the token, so every writer
agrees on them. Hybrid is Qdrant's own reciprocal rank fusion of the two lists, with the
same scores as ``hybrid.reciprocal_rank_fusion`` (k = 60).
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from recsys.index.arrays import PAD_ID
from recsys.index.backend import Payload, PayloadFilter, check_batch
from recsys.index.tokenize import Tokenizer

if TYPE_CHECKING:
    from qdrant_client import QdrantClient, models


def _models() -> ModuleType:
    """qdrant-client's models, imported on first use: its import takes ~2 s, and the default backend is FAISS."""
    from qdrant_client import models

    return models


DENSE = "dense"
SPARSE = "bm25"
RRF_K = 61  # Qdrant scores 1 / (k + rank from 0): 1 / (61 + rank0) is the embedded 1 / (60 + rank from 1)
AVG_LEN = "_bm25_avg_len"  # payload key holding the collection's fixed BM25 average length
K1, B = 1.5, 0.75


def connect(url: str) -> QdrantClient:
    """A client for ``url``: a server address, ``:memory:``, or a local-mode folder."""
    from qdrant_client import QdrantClient

    if not url:
        raise ValueError("RECSYS_QDRANT_URL is empty: give http://host:6333, :memory: or a folder")
    if url.startswith(("http://", "https://")):
        return QdrantClient(url=url)
    if url == ":memory:":
        return QdrantClient(location=":memory:")
    return QdrantClient(path=url)


def token_id(token: str) -> int:
    return zlib.crc32(token.encode("utf-8")) & 0x7FFFFFFF


class QdrantBackend:
    def __init__(
        self,
        dim: int,
        url: str = ":memory:",
        *,
        collection: str = "items",
        shards: int = 1,
        replicas: int = 1,
        client: QdrantClient | None = None,
    ) -> None:
        self.dim = int(dim)
        self.collection = collection
        self.client = client if client is not None else connect(url)
        self.tokenizer = Tokenizer()
        self._avg_len: float | None = None
        if self.client.collection_exists(collection):
            size = self.client.get_collection(collection).config.params.vectors[DENSE].size  # type: ignore[index]
            if size != self.dim:
                raise ValueError(f"Qdrant collection {collection!r} holds {size}-d vectors, not {self.dim}-d")
            self._avg_len = self._stored_avg_len()
        else:
            self.client.create_collection(
                collection,
                vectors_config={DENSE: _models().VectorParams(size=self.dim, distance=_models().Distance.COSINE)},
                sparse_vectors_config={SPARSE: _models().SparseVectorParams(modifier=_models().Modifier.IDF)},
                shard_number=shards,
                replication_factor=replicas,
            )

    # --- edits ---------------------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray, texts: Sequence[str], payloads: Sequence[Payload]) -> None:
        ids, x = check_batch(ids, vectors, texts, payloads, self.dim)
        if not ids.size:
            return
        tokens = [self.tokenizer(str(t)) for t in texts]
        if self._avg_len is None:
            self._avg_len = max(float(np.mean([len(t) for t in tokens])), 1.0)
        points = []
        for item_id, row, words, payload in zip(ids.tolist(), x, tokens, payloads):
            vector: dict[str, models.Vector] = {DENSE: row.tolist()}
            if words:
                vector[SPARSE] = self._document_vector(words)
            clean = {k: v for k, v in payload.items() if not (isinstance(v, float) and math.isnan(v))}
            clean[AVG_LEN] = self._avg_len  # on every point, so a reopened collection finds it
            points.append(_models().PointStruct(id=int(item_id), vector=vector, payload=clean))
        self.client.upsert(self.collection, points=points, wait=True)

    def delete(self, ids: np.ndarray) -> int:
        wanted = sorted({int(i) for i in np.asarray(ids, dtype=np.int64).ravel().tolist() if i >= 0})
        if not wanted:
            return 0
        present = [p.id for p in self.client.retrieve(self.collection, wanted, with_payload=False)]
        if present:
            self.client.delete(self.collection, _models().PointIdsList(points=present), wait=True)
        return len(present)

    def __len__(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    # --- queries -------------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int, where: PayloadFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        hits = self.client.query_points(
            self.collection, query=self._query_dense(vector), using=DENSE, limit=max(k, 1), query_filter=_filter(where)
        ).points
        return _padded(hits, k, -np.inf)

    def lexical(self, text: str, k: int, where: PayloadFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        query = self._query_sparse(text)
        if query is None:
            return _padded([], k, 0.0)
        hits = self.client.query_points(
            self.collection, query=query, using=SPARSE, limit=max(k, 1), query_filter=_filter(where)
        ).points
        return _padded([h for h in hits if h.score > 0], k, 0.0)

    def hybrid(
        self, vector: np.ndarray, text: str, k: int, where: PayloadFilter | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        condition = _filter(where)
        prefetch = [_models().Prefetch(query=self._query_dense(vector), using=DENSE, limit=k, filter=condition)]
        sparse = self._query_sparse(text)
        if sparse is not None:
            prefetch.append(_models().Prefetch(query=sparse, using=SPARSE, limit=k, filter=condition))
        hits = self.client.query_points(
            self.collection, prefetch=prefetch, query=_models().RrfQuery(rrf=_models().Rrf(k=RRF_K)), limit=max(k, 1)
        ).points
        ids = np.array([int(h.id) for h in hits], dtype=np.int64)
        return ids, np.array([h.score for h in hits], dtype=np.float32)

    def close(self) -> None:
        self.client.close()

    # --- helpers -------------------------------------------------------------------------------------
    def _document_vector(self, words: list[str]) -> models.SparseVector:
        counts = Counter(token_id(w) for w in words)
        norm = K1 * (1 - B + B * len(words) / (self._avg_len or 1.0))
        indices = sorted(counts)
        return _models().SparseVector(indices=indices, values=[counts[i] / (counts[i] + norm) for i in indices])

    def _query_sparse(self, text: str) -> models.SparseVector | None:
        ids = sorted({token_id(w) for w in self.tokenizer(text, translate=False)})  # a repeated word counts once
        return _models().SparseVector(indices=ids, values=[1.0] * len(ids)) if ids else None

    def _query_dense(self, vector: np.ndarray) -> list[float]:
        q = np.asarray(vector, dtype=np.float32).ravel()
        if q.shape != (self.dim,) or not np.isfinite(q).all():
            raise ValueError(f"expected one finite {self.dim}-d query vector, got shape {q.shape}")
        return q.tolist()

    def _stored_avg_len(self) -> float | None:
        points, _ = self.client.scroll(self.collection, limit=1, with_payload=[AVG_LEN])
        return float(points[0].payload[AVG_LEN]) if points and points[0].payload else None


def _filter(where: PayloadFilter | None) -> models.Filter | None:
    if where is None or (not where.match and not where.ranges):
        return None
    must: list[models.Condition] = [
        _models().FieldCondition(key=name, match=_models().MatchAny(any=list(values)))
        for name, values in where.match.items()
    ]
    must += [
        _models().FieldCondition(key=name, range=_models().Range(gte=low, lte=high))
        for name, (low, high) in where.ranges.items()
    ]
    return _models().Filter(must=must)


def _padded(hits: Sequence[models.ScoredPoint], k: int, pad_score: float) -> tuple[np.ndarray, np.ndarray]:
    scores = np.full(max(k, 0), pad_score, dtype=np.float32)
    ids = np.full(max(k, 0), PAD_ID, dtype=np.int64)
    n = min(len(hits), max(k, 0))
    scores[:n] = [h.score for h in hits[:n]]
    ids[:n] = [int(h.id) for h in hits[:n]]
    return scores, ids
