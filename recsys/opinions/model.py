"""The trained opinion model: per-aspect detectors, one polarity classifier, per-aspect verdict classifiers.

All three are logistic regressions over the same sentence vectors, so the model is a few weight matrices: it is
saved as ``.npy`` arrays plus a JSON header (no pickle) and applied with one matrix product per sentence batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recsys.opinions.aspects import Aspect, aspects_fingerprint

FORMAT = 1


def sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


@dataclass
class VerdictHead:
    keys: tuple[str, ...]
    coef: np.ndarray  # [V, dim]
    intercept: np.ndarray  # [V]


@dataclass
class SentenceOpinions:
    """Per sentence: aspect probabilities and hits, P(positive), and per aspect the verdict key (or '')."""

    aspect_probs: np.ndarray  # float32 [n, A]
    aspect_hits: np.ndarray  # bool [n, A]
    positive: np.ndarray  # float32 [n]
    verdicts: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class OpinionModel:
    model_name: str  # the text model whose vectors the weights read
    aspect_keys: tuple[str, ...]
    aspects_fingerprint: str
    aspect_coef: np.ndarray  # float32 [A, dim]
    aspect_intercept: np.ndarray  # float32 [A]
    aspect_threshold: np.ndarray  # float32 [A], chosen on a validation split of the weak labels
    polarity_coef: np.ndarray  # float32 [dim]
    polarity_intercept: float
    verdict_heads: dict[str, VerdictHead] = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)  # training notes and validation numbers

    def matches(self, aspects: tuple[Aspect, ...]) -> bool:
        return self.aspects_fingerprint == aspects_fingerprint(aspects)

    def apply(self, vectors: np.ndarray) -> SentenceOpinions:
        n = len(vectors)
        if n == 0:
            empty = np.zeros((0, len(self.aspect_keys)), dtype=np.float32)
            return SentenceOpinions(empty, empty.astype(bool), np.zeros(0, np.float32), {})
        probs = sigmoid(vectors @ self.aspect_coef.T + self.aspect_intercept)
        hits = probs >= self.aspect_threshold
        positive = sigmoid(vectors @ self.polarity_coef + self.polarity_intercept)
        verdicts: dict[str, list[str]] = {}
        for key, head in self.verdict_heads.items():
            p = softmax(vectors @ head.coef.T + head.intercept)
            best = p.argmax(axis=1)
            # a verdict only for a confident call; "the fit" alone says nothing about small or large
            verdicts[key] = [head.keys[b] if p[i, b] >= 0.5 else "" for i, b in enumerate(best)]
        return SentenceOpinions(probs, hits, positive, verdicts)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {
            "aspect_coef": self.aspect_coef,
            "aspect_intercept": self.aspect_intercept,
            "aspect_threshold": self.aspect_threshold,
            "polarity_coef": self.polarity_coef,
        }
        for key, head in self.verdict_heads.items():
            arrays[f"verdict_{key}_coef"], arrays[f"verdict_{key}_intercept"] = head.coef, head.intercept
        for name, arr in arrays.items():
            np.save(directory / f"{name}.npy", np.asarray(arr, dtype=np.float32))
        header = {
            "format": FORMAT,
            "model_name": self.model_name,
            "aspect_keys": list(self.aspect_keys),
            "aspects_fingerprint": self.aspects_fingerprint,
            "polarity_intercept": self.polarity_intercept,
            "verdicts": {k: list(h.keys) for k, h in self.verdict_heads.items()},
            "metrics": self.metrics,
        }
        (directory / "opinions.json").write_text(json.dumps(header, indent=1))

    @classmethod
    def load(cls, directory: Path) -> OpinionModel:
        header = json.loads((directory / "opinions.json").read_text())
        if header.get("format") != FORMAT:
            raise ValueError(f"opinion model in {directory} has format {header.get('format')}, expected {FORMAT}")

        def arr(name: str) -> np.ndarray:
            return np.load(directory / f"{name}.npy", allow_pickle=False)

        heads = {
            k: VerdictHead(tuple(keys), arr(f"verdict_{k}_coef"), arr(f"verdict_{k}_intercept"))
            for k, keys in header["verdicts"].items()
        }
        return cls(
            header["model_name"],
            tuple(header["aspect_keys"]),
            header["aspects_fingerprint"],
            arr("aspect_coef"),
            arr("aspect_intercept"),
            arr("aspect_threshold"),
            arr("polarity_coef"),
            float(header["polarity_intercept"]),
            heads,
            header.get("metrics", {}),
        )
