"""The MiniLM text encoder as the suites use it: loaded once per process, cached on disk by text hash.

The disk cache lives under ``settings.data_dir / "cache"`` (outside the repository by configuration), so a
rerun of a suite encodes nothing twice; evaluating on new data only encodes the new texts.
"""

from __future__ import annotations

from functools import lru_cache

from recsys.config import Settings
from recsys.encoders.text import LazyTextEncoder
from recsys.ranking.embedding_cache import CachedTextEncoder


@lru_cache(maxsize=4)
def _shared(model_name: str, device: str, batch_size: int) -> LazyTextEncoder:
    return LazyTextEncoder(model_name, device, batch_size)


def text_encoder(settings: Settings) -> CachedTextEncoder:
    lazy = _shared(settings.text_model, settings.device, settings.encode_batch_size)
    return CachedTextEncoder(lazy, settings.data_dir / "cache", model_name=settings.text_model)
