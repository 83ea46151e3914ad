"""On-disk cache of frozen-tower features, keyed by content hash, so re-training heads takes seconds.

Layout: ``<root>/<tower id>/<shard>.npz``, each shard holding ``keys`` (str) and ``feats`` (float32 [n, d]).
Shards are only ever added (written to a temp file, then ``os.replace``d), so a crash never leaves a torn file
and concurrent readers see either the old or the new set of shards.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

ImageSource = Image.Image | bytes | Path


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def image_key(image: ImageSource) -> str:
    """sha256 of the file bytes (as the image store names files), or of the decoded pixels for PIL images."""
    if isinstance(image, Path):
        return hashlib.sha256(image.read_bytes()).hexdigest()
    if isinstance(image, bytes):
        return hashlib.sha256(image).hexdigest()
    rgb = image.convert("RGB")
    return hashlib.sha256(f"{rgb.size}".encode() + rgb.tobytes()).hexdigest()


def open_image(image: ImageSource) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    data = image.read_bytes() if isinstance(image, Path) else image
    return Image.open(io.BytesIO(data)).convert("RGB")


class FeatureCache:
    """Maps content keys to feature rows for one tower; loads all shards of that tower on open."""

    def __init__(self, root: Path, tower_id: str) -> None:
        self.dir = Path(root) / tower_id
        self._rows: dict[str, np.ndarray] = {}
        for shard in sorted(self.dir.glob("*.npz")):
            with np.load(shard, allow_pickle=False) as data:
                self._rows.update(zip(data["keys"].tolist(), data["feats"]))

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def put(self, keys: Sequence[str], feats: np.ndarray) -> None:
        if not keys:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256("".join(keys).encode()).hexdigest()[:20]
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, keys=np.asarray(keys), feats=feats.astype(np.float32))
        os.replace(tmp, self.dir / f"{name}.npz")
        self._rows.update(zip(keys, feats.astype(np.float32)))

    def get_or_compute(
        self,
        keys: Sequence[str],
        compute: Callable[[list[int]], np.ndarray],
        dim: int,
        chunk: int = 2048,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Rows for ``keys``; missing ones come from ``compute(indices)`` in chunks, each chunk saved as a shard."""
        first: dict[str, int] = {}  # duplicates computed once, at their first index
        for i, key in enumerate(keys):
            if key not in self._rows:
                first.setdefault(key, i)
        missing = list(first.values())
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            self.put([keys[i] for i in part], compute(part))
            if progress is not None:
                progress(min(start + chunk, len(missing)), len(missing))
        return np.stack([self._rows[key] for key in keys]) if keys else np.zeros((0, dim), np.float32)
