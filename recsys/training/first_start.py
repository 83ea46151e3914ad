"""Loading the encoder at start-up (the service calls it once), training the projection heads first when none exist yet.

The offline default encoder needs heads trained on the catalog's own (text, image) pairs. On the first start with
a catalog, they are trained here (minutes on CPU, tower features cached) and saved as a model version; held-out
items (``recsys.splits.is_holdout``) are never trained on, so evaluation stays honest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.encoders import MultimodalEncoder, create_encoder
from recsys.progress import Progress
from recsys.training.heads import train_heads
from recsys.training.pair_sources import catalog_pairs

log = logging.getLogger(__name__)
MIN_TRAINING_ITEMS = 200  # fewer (text, image) items cannot align the towers; keep the untrained heads and say so


def load_encoder(
    settings: Settings,
    catalog: CatalogStore,
    progress: Progress | None = None,
    before_training: Callable[[MultimodalEncoder], None] | None = None,
) -> MultimodalEncoder:
    """The encoder to serve: the active version, or heads trained now on the catalog's pairs.

    ``before_training`` gets the untrained encoder right before the (minutes of) training: the app serves keyword
    search with it meanwhile."""
    encoder = create_encoder(settings)
    if encoder.trained:
        return encoder
    pairs = catalog_pairs(catalog)
    items = len({p.external_id for p in pairs})
    if items < MIN_TRAINING_ITEMS:
        log.warning(
            "only %d items with an image in the catalog: projection heads stay untrained until there are %d",
            items,
            MIN_TRAINING_ITEMS,
        )
        return encoder
    if before_training is not None:
        before_training(encoder)
    log.info("training projection heads on %d pairs of %d catalog items (held-out items excluded)", len(pairs), items)
    version = train_heads(pairs, settings, progress=progress, text=encoder.text)
    log.info("trained and activated encoder heads %s", version)
    return create_encoder(settings, text=encoder.text)
