"""SYNTHETIC catalog for speed and memory benchmarks only: never claim quality on it.

``synthetic_catalog(n, vocab, base_vectors)`` makes ``n`` items whose titles, attributes and prices recombine a
real vocabulary (``FashionVocabulary.from_styles_csv``: the shared fashion styles.csv) and whose vectors are
drawn around real item vectors (row ``i`` = a sampled real vector + Gaussian noise, L2-normalised). No image
files. Every item carries ``synthetic: "1"`` in its attributes so it cannot pass for real data.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ATTRIBUTE_COLUMNS = ("gender", "masterCategory", "subCategory", "articleType", "baseColour", "season", "usage")
SYNTHETIC_MARK = "synthetic"


@dataclass(frozen=True)
class FashionVocabulary:
    """Distinct values per attribute column and the words of real titles (brands, styles)."""

    values: dict[str, tuple[str, ...]]
    title_words: tuple[str, ...]

    @classmethod
    def from_styles_csv(cls, path: str | Path, limit: int | None = None) -> FashionVocabulary:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"fashion styles.csv not found: {path}")
        values: dict[str, set[str]] = {c: set() for c in ATTRIBUTE_COLUMNS}
        words: set[str] = set()
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                if limit is not None and i >= limit:
                    break
                for c in ATTRIBUTE_COLUMNS:
                    if row.get(c):
                        values[c].add(row[c].strip())
                words.update(w for w in (row.get("productDisplayName") or "").split() if w.isalpha())
        if not words or not any(values.values()):
            raise ValueError(f"{path}: no titles or attributes to build a vocabulary from")
        return cls({c: tuple(sorted(v)) for c, v in values.items() if v}, tuple(sorted(words)))


@dataclass
class SyntheticCatalog:
    """Column arrays (row ``i`` is item ``ids[i]``), plus ``vectors`` float32 [n, dim], L2-normalised."""

    ids: np.ndarray
    titles: list[str]
    attributes: dict[str, np.ndarray]  # column -> array of str values
    prices: np.ndarray
    vectors: np.ndarray
    base_rows: np.ndarray  # which real vector each item was drawn around

    def __len__(self) -> int:
        return int(self.ids.size)

    def item_attributes(self, i: int) -> dict[str, str]:
        out = {c: str(v[i]) for c, v in self.attributes.items()}
        out[SYNTHETIC_MARK] = "1"
        return out


def synthetic_catalog(
    n: int,
    vocab: FashionVocabulary,
    base_vectors: np.ndarray,
    *,
    noise: float = 0.05,
    seed: int = 0,
    title_words: int = 3,
) -> SyntheticCatalog:
    """``n`` synthetic items; ``noise`` is the per-dimension std of the Gaussian added to unit base vectors."""
    if n <= 0:
        raise ValueError("n must be positive")
    base = np.asarray(base_vectors, dtype=np.float32)
    if base.ndim != 2 or base.shape[0] == 0:
        raise ValueError("base_vectors must be a non-empty 2-D array")
    if noise < 0:
        raise ValueError("noise must be >= 0")
    rng = np.random.default_rng(seed)
    base = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-12)
    rows = rng.integers(0, base.shape[0], n)
    vectors = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 65536):  # chunked so 1M x 896 never needs a float64 temporary
        sl = slice(start, min(start + 65536, n))
        chunk = base[rows[sl]] + noise * rng.standard_normal((sl.stop - sl.start, base.shape[1]), dtype=np.float32)
        chunk /= np.maximum(np.linalg.norm(chunk, axis=1, keepdims=True), 1e-12)
        vectors[sl] = chunk
    attributes = {c: np.asarray(v, dtype=object)[rng.integers(0, len(v), n)] for c, v in vocab.values.items()}
    words = np.asarray(vocab.title_words, dtype=object)
    picks = words[rng.integers(0, len(words), (n, title_words))]
    colour = attributes.get("baseColour")
    kind = attributes.get("articleType")
    titles = []
    for i in range(n):
        parts = list(picks[i])
        if colour is not None:
            parts.append(colour[i])
        if kind is not None:
            parts.append(kind[i])
        titles.append(" ".join(parts))
    prices = np.round(np.exp(rng.normal(7.0, 0.8, n)), 0).astype(np.float32)  # log-normal, rupee-like range
    return SyntheticCatalog(np.arange(n, dtype=np.int64), titles, attributes, prices, vectors, rows)
