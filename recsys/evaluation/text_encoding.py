"""The MiniLM text encoder as the suites use it: loaded once per process, cached on disk by text hash.

The disk cache lives under ``settings.data_dir / "cache"`` (outside the repository by configuration), so a
rerun of a suite encodes nothing twice; evaluating on new data only encodes the new texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from recsys.config import Settings
from recsys.encoders.text import TextEncoder
from recsys.ranking.embedding_cache import CachedTextEncoder


class _LazyTextEncoder:
    """Loads the transformer on the first call, so a fully cached run never loads it."""

    def __init__(self, model_name: str, device: str, batch_size: int) -> None:
        self.model_name, self.device, self.batch_size = model_name, device, batch_size
        self._encoder: TextEncoder | None = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = TextEncoder(self.model_name, self.device, batch_size=self.batch_size)
        return self._encoder.encode(texts)


@lru_cache(maxsize=4)
def _shared(model_name: str, device: str, batch_size: int) -> _LazyTextEncoder:
    return _LazyTextEncoder(model_name, device, batch_size)


def text_encoder(settings: Settings) -> CachedTextEncoder:
    lazy = _shared(settings.text_model, settings.device, settings.encode_batch_size)
    return CachedTextEncoder(lazy, settings.data_dir / "cache", model_name=settings.text_model)
