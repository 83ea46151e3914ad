"""One wrapper for every CLIP-style model: real open_clip models and the offline ``TowerClip`` alike.

Both expose open_clip's contract (``encode_image``, ``encode_text``) with an image preprocess and a tokenizer,
so batching, no-grad, device placement and normalisation are written once here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, Self

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

Preprocess = Callable[[Image.Image], torch.Tensor]
Tokenizer = Callable[[Sequence[str]], torch.Tensor]


class ClipModel(Protocol):
    """What ``ClipJoint`` uses of a CLIP-style ``torch.nn.Module`` (an open_clip model, ``TowerClip``)."""

    def to(self, device: torch.device, /) -> Self: ...

    def eval(self) -> Self: ...

    def encode_text(self, text: torch.Tensor, /) -> torch.Tensor: ...

    def encode_image(self, image: torch.Tensor, /) -> torch.Tensor: ...


class ClipJoint:
    """Joint-space ``encode_texts`` / ``encode_images`` -> float32 unit rows [n, dim]."""

    def __init__(
        self,
        model: ClipModel,
        preprocess: Preprocess,
        tokenizer: Tokenizer,
        version: str,
        trained: bool,
        device: torch.device,
        batch_size: int = 64,
    ) -> None:
        self.model = model.to(device).eval()
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.version = version
        self.trained = trained
        self.device = device
        self.batch_size = batch_size
        self.dim = int(self.encode_texts(["probe"]).shape[1])

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        parts = [
            self._rows(self.model.encode_text(self.tokenizer(list(texts[i : i + self.batch_size])).to(self.device)))
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)

    @torch.no_grad()
    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        parts = []
        for start in range(0, len(images), self.batch_size):
            batch = [self.preprocess(img.convert("RGB")) for img in images[start : start + self.batch_size]]
            parts.append(self._rows(self.model.encode_image(torch.stack(batch).to(self.device))))
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)

    @torch.no_grad()
    def project(self, projection: Callable[[torch.Tensor], torch.Tensor], feats: np.ndarray) -> np.ndarray:
        """``projection`` (a model's head on tower features) over float32 rows, batched, as unit rows."""
        parts = [
            self._rows(projection(torch.from_numpy(feats[i : i + 4096]).to(self.device)))
            for i in range(0, len(feats), 4096)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)

    @staticmethod
    def _rows(x: torch.Tensor) -> np.ndarray:
        return F.normalize(x.float(), dim=-1).cpu().numpy().astype(np.float32)
