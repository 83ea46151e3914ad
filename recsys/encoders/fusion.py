"""Fusion of routes into the one vector FAISS indexes, by weighted concatenation.

fused = [sqrt(w_joint) * joint, sqrt(w_text) * text_bert] with unit-length parts and w_joint + w_text = 1, so
for an item and a query that both have both parts, fused_q . fused_i = w_joint * joint_sim + w_text * bert_sim:
a fixed blend of the cross-modal (CLIP-space) score and the MiniLM text-text score, with no re-ranking needed.

- Item joint part: mean of its image vector and its text_clip vector (text_clip alone when it has no image).
  Averaging both keeps items with and without photos on one scale in the joint space.
- Text query: joint part = CLIP text vector, text part = MiniLM vector.
- Image query: joint part = CLIP image vector, text part = zeros, then renormalised: ranks by the joint
  score alone (the MiniLM part of items cannot be compared with an image).
- Text + image query: joint part = mean of the CLIP text and image vectors, text part = MiniLM of the text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FusionWeights:
    joint: float = 0.6
    text: float = 0.4

    def __post_init__(self) -> None:
        if self.joint < 0 or self.text < 0 or self.joint + self.text <= 0:
            raise ValueError("fusion weights must be non-negative and not both zero")


DEFAULT_WEIGHTS = FusionWeights()


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """L2-normalise rows; all-zero rows stay zero (missing content) instead of becoming NaN."""
    x = np.asarray(x, dtype=np.float32)  # float32 throughout: a float64 detour made this several times slower
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
    return x / np.where(norms > 0, norms, np.float32(1.0))


def mean_of_present(*parts: np.ndarray) -> np.ndarray:
    """Row-wise normalised mean of the parts, skipping all-zero (missing) rows in each part."""
    total = normalize_rows(parts[0])
    for part in parts[1:]:
        total = total + normalize_rows(part)
    return normalize_rows(total)


def fuse(joint: np.ndarray, text: np.ndarray, weights: FusionWeights) -> np.ndarray:
    """[n, d_joint + d_text] unit rows from unit (or zero) joint and text rows."""
    total = weights.joint + weights.text
    a, b = np.float32(np.sqrt(weights.joint / total)), np.float32(np.sqrt(weights.text / total))
    joint, text = normalize_rows(joint), normalize_rows(text)
    out = np.empty((joint.shape[0], joint.shape[1] + text.shape[1]), dtype=np.float32)
    np.multiply(joint, a, out=out[:, : joint.shape[1]])
    np.multiply(text, b, out=out[:, joint.shape[1] :])
    return normalize_rows(out)
