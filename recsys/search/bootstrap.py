"""Loading the encoder at start-up, training the projection heads first when none exist yet.

The offline default encoder needs heads trained on the catalog's own (text, image) pairs. On the first start with
a catalog, they are trained here (minutes on CPU, tower features cached) and saved as a model version; held-out
items (``recsys.splits.is_holdout``) are never trained on, so evaluation stays honest.
"""
from __future__ import annotations

import logging
from typing import Callable

from sqlalchemy import select

from ..catalog.models import Item, ItemImage
from ..config import Settings
from ..encoders import MultimodalEncoder, create_encoder
from ..encoders.content import clip_text
from ..service import CatalogService
from ..training.heads import TrainingPair, train_heads

log = logging.getLogger(__name__)
MIN_TRAINING_PAIRS = 200  # fewer pairs cannot align the towers; keep the untrained heads and say so


def catalog_pairs(catalog: CatalogService) -> list[TrainingPair]:
    """One (clip text, first image) pair per item with an image."""
    with catalog.sessions() as session:
        rows = session.execute(
            select(Item.external_id, Item.title, Item.category, Item.attributes, ItemImage.path)
            .join(ItemImage, ItemImage.item_id == Item.id)
            .where(ItemImage.position == 0)
            .order_by(Item.id)
        ).all()
    return [TrainingPair(external_id=r[0], text=clip_text(r[1], r[2], {k: str(v) for k, v in (r[3] or {}).items()}),
                         image=catalog.images.path(r[4])) for r in rows]


def load_encoder(settings: Settings, catalog: CatalogService,
                 progress: Callable[[str, float], None] | None = None) -> MultimodalEncoder:
    encoder = create_encoder(settings)
    if encoder.trained:
        return encoder
    pairs = catalog_pairs(catalog)
    if len(pairs) < MIN_TRAINING_PAIRS:
        log.warning("only %d (text, image) pairs in the catalog: projection heads stay untrained until there are %d",
                    len(pairs), MIN_TRAINING_PAIRS)
        return encoder
    log.info("training projection heads on %d catalog pairs (held-out items excluded)", len(pairs))
    version = train_heads(pairs, settings, progress=progress, text=encoder.text)
    log.info("trained and activated encoder heads %s", version)
    return create_encoder(settings, text=encoder.text)
