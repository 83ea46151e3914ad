"""The item route vectors a serving state holds, rows aligned with its table.

The four encoded routes are held in half precision (``ROUTE_DTYPE``); the fused route is not held at all: it is a
fixed function of three of them (``fuse(mean_of_present(image, text_clip), text_bert)``, as the encoder computes it)
and is derived for the rows a search reads. Together that is 1,792 half floats per item instead of 2,688 floats:
3.6 GB instead of 10.8 GB at a million items. FAISS keeps its own (compressed) copy of the fused vectors.

Searches read rows (``rows``: float32, a few hundred per query); whole matrices (``state.routes[FUSED]``) are for
builds and tests, and the fused one is computed in blocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import torch

from recsys.encoders.fusion import FusionWeights, fuse, mean_of_present
from recsys.encoders.routes import FUSED, IMAGE, ITEM_ROUTES, TEXT_BERT, TEXT_CLIP

# Half the memory of float32 for cosine errors up to 7e-5 on real MiniLM title vectors (docs/scale.md); rows are cast
# back to float32 when read.
ROUTE_DTYPE = np.float16
STORED_ROUTES = tuple(r for r in ITEM_ROUTES if r != FUSED)
BLOCK = 65_536  # rows per block when the whole fused matrix is derived


class RouteMatrices(Mapping[str, np.ndarray]):
    """route -> [n, d] matrix; ``stored`` holds the encoded routes, the fused one is derived from them."""

    def __init__(self, stored: Mapping[str, np.ndarray], weights: FusionWeights) -> None:
        missing = set(STORED_ROUTES) - set(stored)
        if missing:
            raise ValueError(f"route matrices lack {sorted(missing)}")
        self.stored = {r: np.asarray(stored[r], dtype=ROUTE_DTYPE) for r in STORED_ROUTES}
        self.weights = weights
        self.n = self.stored[TEXT_BERT].shape[0]

    @classmethod
    def empty(cls, n: int, dims: Mapping[str, int], weights: FusionWeights) -> RouteMatrices:
        return cls({r: np.zeros((n, dims[r]), ROUTE_DTYPE) for r in STORED_ROUTES}, weights)

    def dim(self, route: str) -> int:
        if route == FUSED:
            return self.stored[IMAGE].shape[1] + self.stored[TEXT_BERT].shape[1]
        return self.stored[route].shape[1]

    def rows(self, route: str, rows: np.ndarray | slice) -> np.ndarray:
        """float32 rows of one route (derived for the fused route)."""
        if route != FUSED:
            return widened(self.stored[route][rows])
        image, text_clip, text_bert = (widened(self.stored[r][rows]) for r in (IMAGE, TEXT_CLIP, TEXT_BERT))
        return fuse(mean_of_present(image, text_clip), text_bert, self.weights)

    def encoded(self) -> np.ndarray:
        """Row positions that hold vectors (any stored route non-zero): the items the vector index may hold."""
        present = np.zeros(self.n, dtype=bool)
        for route in (IMAGE, TEXT_CLIP, TEXT_BERT):
            present |= np.any(self.stored[route] != 0, axis=1)
        return np.flatnonzero(present)

    def __getitem__(self, route: str) -> np.ndarray:
        if route != FUSED:
            return self.stored[route]
        out = np.empty((self.n, self.dim(FUSED)), dtype=np.float32)
        for start in range(0, self.n, BLOCK):
            out[start : start + BLOCK] = self.rows(FUSED, slice(start, start + BLOCK))
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(ITEM_ROUTES)

    def __len__(self) -> int:
        return len(ITEM_ROUTES)


def widened(half: np.ndarray) -> np.ndarray:
    """float32 copy of float16 rows, exact either way: torch converts with the CPU's half-float instructions, numpy
    element by element (800 fused rows' three routes: 1.9 ms in numpy, 0.13 ms in torch)."""
    if half.dtype != np.float16 or not (half.flags.c_contiguous and half.flags.writeable):  # torch warns on read-only
        return half.astype(np.float32)
    return torch.from_numpy(half).float().numpy()
