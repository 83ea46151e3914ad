"""Tower outputs for bulk encoding (a model switch) from the on-disk feature caches that training fills.

A heads-only model version shares its towers with the version it replaces, and training has already put the
frozen-tower features of every catalog image and clip text into ``data_dir/features``. Re-encoding the catalog
for the new version then needs only the heads; MiniLM texts computed once (bert, reviews) are kept for the next
switch too. Keys are content hashes: the image store names a file by the sha256 of its bytes, which is the
cache's image key, and texts by sha256 of the text. Cache folders are named by the tower id (tuned towers have
their own), so features of another tower are never used.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from recsys.encoders.feature_cache import FeatureCache, text_key
from recsys.encoders.image_tower import ImageTower
from recsys.encoders.openclip_path import slug
from recsys.encoders.text import TextEncoder


class BulkFeatures:
    """Cached ``TextEncoder.encode`` rows (per text model) and, for an offline TowerClip, image-tower rows."""

    def __init__(self, root: Path, image_tower: ImageTower | None = None) -> None:
        self.root = Path(root)
        self.image_tower = image_tower
        self.images = FeatureCache(self.root, image_tower.id) if image_tower is not None else None
        self.image_dim = image_tower.dim if image_tower is not None else 0
        self._texts: dict[str, FeatureCache] = {}

    def text_features(self, texts: Sequence[str], encoder: TextEncoder) -> np.ndarray:
        """``encoder.encode(texts)``, through the cache folder of that text model."""
        if encoder.model_name not in self._texts:
            self._texts[encoder.model_name] = FeatureCache(self.root, "text-" + slug(encoder.model_name))
        return self._texts[encoder.model_name].get_or_compute(
            [text_key(t) for t in texts], lambda idx: encoder.encode([texts[i] for i in idx]), encoder.dim
        )

    def image_features(self, images: Sequence[Image.Image], keys: Sequence[str]) -> np.ndarray:
        """``image_tower.features(images)``; ``keys`` are the images' content hashes (stored file names)."""
        if self.images is None:
            raise RuntimeError("no image feature cache: only an offline TowerClip's image features are cached")
        return self.images.get_or_compute(
            list(keys), lambda idx: self._tower_features([images[i] for i in idx]), self.image_dim
        )

    def _tower_features(self, images: Sequence[Image.Image]) -> np.ndarray:
        # Looked up only when a row is missing: with every row cached no tower is needed.
        if self.image_tower is None:
            raise RuntimeError("no image tower to compute uncached image features")
        return self.image_tower.features(images)
