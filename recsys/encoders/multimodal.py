"""The multimodal encoder the service uses: joint (CLIP-space) vectors, MiniLM text vectors and their fusion."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from recsys.encoders import routes
from recsys.encoders.bulk_features import BulkFeatures
from recsys.encoders.content import ItemContent, item_bert_text, item_clip_text, item_reviews_text
from recsys.encoders.fusion import DEFAULT_WEIGHTS, FusionWeights, fuse, mean_of_present, normalize_rows
from recsys.encoders.joint import ClipJoint
from recsys.encoders.text import TextEncoder
from recsys.encoders.tower_clip import TowerClip


class MultimodalEncoder:
    """All outputs are float32 rows, L2-normalised; a route row is zeros only where its content is missing."""

    def __init__(
        self, joint: ClipJoint, text: TextEncoder, version: str, weights: FusionWeights = DEFAULT_WEIGHTS
    ) -> None:
        self.joint = joint
        self.text = text
        self.version = version
        self.weights = weights

    @property
    def trained(self) -> bool:
        """False when the joint space comes from untrained heads (the service should train them)."""
        return self.joint.trained

    @property
    def dims(self) -> dict[str, int]:
        return {
            routes.IMAGE: self.joint.dim,
            routes.TEXT_CLIP: self.joint.dim,
            routes.TEXT_BERT: self.text.dim,
            routes.REVIEWS_BERT: self.text.dim,
            routes.FUSED: self.joint.dim + self.text.dim,
        }

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        return self.joint.encode_texts(texts)

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        return self.joint.encode_images(images)

    def bulk_features(self, root: Path) -> BulkFeatures:
        """Feature caches for encoding many items (a switch): tower outputs computed once, kept on disk."""
        tower_clip = self._tower_clip()
        return BulkFeatures(root, tower_clip.image_tower if tower_clip is not None else None)

    def _tower_clip(self) -> TowerClip | None:
        return self.joint.model if isinstance(self.joint.model, TowerClip) else None

    def encode_items(self, items: list[ItemContent], features: BulkFeatures | None = None) -> dict[str, np.ndarray]:
        """Every item route; ``features`` (from ``bulk_features``) takes tower outputs from the feature caches."""
        if features is None:
            out = {
                routes.TEXT_CLIP: self.joint.encode_texts([item_clip_text(i) for i in items]),
                routes.TEXT_BERT: self.text.encode([item_bert_text(i) for i in items]),
                routes.IMAGE: self._mean_images([i.images for i in items]),
                routes.REVIEWS_BERT: self._reviews(items),
            }
        else:
            out = self._cached_routes(items, features)
        joint = mean_of_present(out[routes.IMAGE], out[routes.TEXT_CLIP])
        out[routes.FUSED] = fuse(joint, out[routes.TEXT_BERT], self.weights)
        return out

    def encode_query(self, text: str | None = None, image: Image.Image | None = None) -> dict[str, np.ndarray]:
        text = (text or "").strip()
        if not text and image is None:
            raise ValueError("a query needs text, an image, or both")
        out: dict[str, np.ndarray] = {}
        joint_parts = []
        if text:
            out[routes.TEXT_BERT] = self.text.encode([text])
            tower_clip = self._tower_clip()
            if tower_clip is not None and tower_clip.text_encoder is self.text:
                # The joint route's text tower is this same (untuned) MiniLM: one pass serves both routes.
                out[routes.TEXT_CLIP] = self.joint.project(tower_clip.project_text_features, out[routes.TEXT_BERT])
            else:
                out[routes.TEXT_CLIP] = self.joint.encode_texts([text])
            joint_parts.append(out[routes.TEXT_CLIP])
        if image is not None:
            out[routes.IMAGE] = self.joint.encode_images([image])
            joint_parts.append(out[routes.IMAGE])
        bert = out.get(routes.TEXT_BERT, np.zeros((1, self.text.dim), np.float32))
        out[routes.FUSED] = fuse(mean_of_present(*joint_parts), bert, self.weights)
        return out

    def part_vectors(self, query: dict[str, np.ndarray]) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(text part, photo part) of an ``encode_query`` output as fused vectors, each searched on its own.

        A text + photo query's one fused vector is the photo diluted into the text (the photo weighs a quarter of
        it with the default weights): recalling with each part alone lets the photo bring its own candidates."""
        text = photo = None
        if routes.TEXT_BERT in query:
            text = fuse(query[routes.TEXT_CLIP], query[routes.TEXT_BERT], self.weights)
        if routes.IMAGE in query:
            photo = fuse(query[routes.IMAGE], np.zeros((1, self.text.dim), np.float32), self.weights)
        return text, photo

    def _cached_routes(self, items: list[ItemContent], features: BulkFeatures) -> dict[str, np.ndarray]:
        tower_clip = self._tower_clip()
        out = {
            routes.TEXT_BERT: features.text_features([item_bert_text(i) for i in items], self.text),
            routes.REVIEWS_BERT: self._reviews(items, lambda texts: features.text_features(texts, self.text)),
        }
        if tower_clip is None:  # a real open_clip model: no tower features to reuse
            out[routes.TEXT_CLIP] = self.joint.encode_texts([item_clip_text(i) for i in items])
            out[routes.IMAGE] = self._mean_images([i.images for i in items])
            return out
        clip_feats = features.text_features([item_clip_text(i) for i in items], tower_clip.text_encoder)
        out[routes.TEXT_CLIP] = self.joint.project(tower_clip.project_text_features, clip_feats)
        keyed = all(len(i.image_keys) == len(i.images) for i in items)
        encode = None
        if keyed:
            encode = lambda images, keys: self.joint.project(
                tower_clip.project_image_features, features.image_features(images, keys)
            )
        out[routes.IMAGE] = self._mean_images([i.images for i in items], [i.image_keys for i in items], encode)
        return out

    def _mean_images(self, per_item: Sequence[Sequence[Image.Image]], per_item_keys=None, encode=None) -> np.ndarray:
        """One joint vector per item: the normalised mean over its images; zeros when it has none."""
        flat = [img for imgs in per_item for img in imgs]
        if encode is not None:
            vectors = encode(flat, [key for keys in per_item_keys for key in keys])
        else:
            vectors = self.joint.encode_images(flat)
        out = np.zeros((len(per_item), self.joint.dim), np.float32)
        start = 0
        for row, imgs in enumerate(per_item):
            if imgs:
                out[row] = vectors[start : start + len(imgs)].mean(axis=0)
                start += len(imgs)
        return normalize_rows(out)

    def _reviews(self, items: Sequence[ItemContent], encode=None) -> np.ndarray:
        texts = [item_reviews_text(i) for i in items]
        rows = [n for n, t in enumerate(texts) if t]
        out = np.zeros((len(items), self.text.dim), np.float32)
        if rows:
            out[rows] = (encode or self.text.encode)([texts[n] for n in rows])
        return out
