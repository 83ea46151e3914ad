"""Contextual token vectors of a frozen sentence encoder (MiniLM), for late-interaction features.

A sentence vector averages a text into one point; a query word can still be matched by one word of a title
("cordless drill" vs "... number volt lithium-ion drill driver") when the sentence vectors are only loosely
close. ``TokenEncoder`` returns, per text, the L2-normalised last-layer vector of every word piece (special
tokens dropped) and the index of the whitespace word each piece belongs to; ``features/late_interaction.py``
turns them into ColBERT-style max-similarity scores. ``CachedTokenEncoder`` keeps them on disk, keyed by
(model, text), one ``.npz`` per model, like ``embedding_cache.CachedTextEncoder``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from recsys.encoders.text import resolve_text_model
from recsys.ranking.features.inputs import TokenVectors

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

MAX_TOKENS = 64  # titles and queries are short; a longer text keeps its first 64 word pieces


class TokenEncoderLike(Protocol):
    def encode_tokens(self, texts: Sequence[str]) -> list[TokenVectors]: ...


class TokenEncoder:
    """Frozen Hugging Face encoder -> ``TokenVectors`` per text (float32 unit vectors)."""

    _tokenizer: PreTrainedTokenizerBase | None
    _model: PreTrainedModel | None

    def __init__(
        self,
        model_name: str = "sentence-transformers/all-MiniLM-L6-v2",
        batch_size: int = 64,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self.model_name, self.batch_size, self.max_tokens = model_name, batch_size, max_tokens
        self._model = self._tokenizer = None

    def _load(self) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
        if self._tokenizer is None or self._model is None:
            from transformers import AutoModel, AutoTokenizer  # loaded on first use: a cached run never needs it

            source = resolve_text_model(self.model_name)
            self._tokenizer = AutoTokenizer.from_pretrained(source)
            self._model = AutoModel.from_pretrained(source).eval()
        return self._tokenizer, self._model

    def encode_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        tokenizer, model = self._load()
        out: dict[int, TokenVectors] = {}
        order = sorted(range(len(texts)), key=lambda i: len(texts[i] or ""))  # similar lengths pad less
        with torch.no_grad():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = tokenizer(
                    [texts[i] or "" for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="pt",
                )
                states = torch.nn.functional.normalize(model(**batch).last_hidden_state, dim=-1).numpy()
                for row, i in enumerate(idx):
                    words = batch.word_ids(row)
                    keep = [k for k, w in enumerate(words) if w is not None]
                    out[i] = TokenVectors(
                        states[row, keep].astype(np.float32), np.array([words[k] for k in keep], dtype=np.int32)
                    )
        return [out[i] for i in range(len(texts))]


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachedTokenEncoder:
    """Wraps a ``TokenEncoderLike`` with a persistent per-text cache (``tokvec-<model hash>.npz``).

    Stored as float16 (half the disk), held in memory as float32: numpy converts float16 slowly, and the
    feature code stacks a whole candidate list's vectors per query."""

    def __init__(self, encoder: TokenEncoderLike, cache_dir: Path, model_name: str | None = None) -> None:
        self.encoder = encoder
        fallback: str = getattr(encoder, "model_name", type(encoder).__name__)
        self.path = Path(cache_dir) / f"tokvec-{_key(model_name or fallback)[:12]}.npz"
        self._rows: dict[str, TokenVectors] = {}
        if self.path.exists():
            with np.load(self.path) as data:
                bounds = data["offsets"]
                vecs, words = data["vecs"].astype(np.float32), data["words"]
                for k, key in enumerate(data["keys"].tolist()):
                    a, b = bounds[k], bounds[k + 1]
                    self._rows[key] = TokenVectors(vecs[a:b], words[a:b])

    def encode_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        keys = [_key(t or "") for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._rows))
        if missing:
            first_text = {k: t or "" for k, t in zip(keys, texts)}
            encoded = self.encoder.encode_tokens([first_text[k] for k in missing])
            self._rows.update(
                (k, TokenVectors(np.asarray(v.vectors, dtype=np.float32), np.asarray(v.word_ids)))
                for k, v in zip(missing, encoded)
            )
            self._save()
        return [self._rows[k] for k in keys]

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        rows = list(self._rows.values())
        dim = next((r.vectors.shape[1] for r in rows if r.vectors.ndim == 2 and r.vectors.shape[0]), 0)
        offsets = np.concatenate([[0], np.cumsum([len(r.word_ids) for r in rows])]).astype(np.int64)
        vecs = (
            np.concatenate([r.vectors.reshape(-1, dim) for r in rows]).astype(np.float16)
            if rows
            else np.zeros((0, 0), dtype=np.float16)
        )
        words = np.concatenate([r.word_ids for r in rows]).astype(np.int32) if rows else np.zeros(0, np.int32)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        os.close(fd)
        np.savez(tmp, keys=np.array(list(self._rows)), offsets=offsets, vecs=vecs, words=words)
        os.replace(tmp, self.path)
