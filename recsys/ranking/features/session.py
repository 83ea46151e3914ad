"""Session affinity: how close each candidate is to what the shopper clicked in this session.

Max similarity catches "one more like that one"; mean similarity catches the session's overall theme.
"""

from __future__ import annotations

import numpy as np

NAMES: tuple[str, ...] = ("session_max_sim", "session_mean_sim")


def session_features(item_vectors: np.ndarray | None, clicked_vectors: np.ndarray | None, n: int) -> np.ndarray:
    """float32 [n, 2] of cosine similarities (inputs are unit vectors); NaN with no clicks or no vectors."""
    if item_vectors is None or clicked_vectors is None or len(clicked_vectors) == 0:
        return np.full((n, len(NAMES)), np.nan, dtype=np.float32)
    sims = np.asarray(item_vectors, dtype=np.float32) @ np.asarray(clicked_vectors, dtype=np.float32).T
    return np.stack([sims.max(axis=1), sims.mean(axis=1)], axis=1).astype(np.float32)
