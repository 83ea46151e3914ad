"""The head training loop on synthetic features: negatives options learn, early stopping, fixed temperature."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from recsys.encoders.tower_clip import TowerClipConfig
from recsys.training.head_fit import (
    FitData,
    HeadTrainingConfig,
    TrainingCancelled,
    fit_heads,
    validation_recall,
)

MODEL = TowerClipConfig(image_dim=24, text_dim=16, embed_dim=8, hidden=0)


def _data(n: int = 240, val: int = 60, seed: int = 0) -> FitData:
    """Texts are a fixed linear map of the images plus noise: a learnable pairing."""
    gen = torch.Generator().manual_seed(seed)
    image = torch.randn(n + val, 24, generator=gen)
    text = image @ torch.randn(24, 16, generator=gen) + 0.1 * torch.randn(n + val, 16, generator=gen)
    ids = np.arange(n)
    return FitData(
        image=image[:n],
        text=text[:n],
        item=ids,
        text_id=ids,
        pool_image=image[:n],
        pool_item=ids,
        pool_text_id=ids,
        val_image=image[n:],
        val_text=text[n:],
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"hard_negatives": 2, "hard_negative_depth": 5},
        {"uniform_negatives": 32},
        {"hard_negatives": 1, "uniform_negatives": 16},
    ],
)
def test_every_negative_option_learns_the_pairing(options):
    data = _data()
    config = HeadTrainingConfig(epochs=12, batch_size=48, lr=1e-2, hidden=0, embed_dim=8, **options)
    before = validation_recall(
        fit_heads(data, MODEL, HeadTrainingConfig(epochs=1, lr=1e-9)).heads, data.val_image, data.val_text
    )[0]
    result = fit_heads(data, MODEL, config)
    after = validation_recall(result.heads, data.val_image, data.val_text)[0]
    assert after > max(0.6, before + 0.3), (before, after)
    assert len(result.losses) == 12 and result.losses[-1] < result.losses[0]


def test_early_stopping_stops_when_validation_recall_stalls_and_keeps_the_best_epoch():
    data = _data()
    # A vanishing learning rate: validation recall never improves after epoch 1, so patience 2 stops after epoch 3.
    result = fit_heads(data, MODEL, HeadTrainingConfig(epochs=10, batch_size=48, lr=1e-12, patience=2))
    assert result.stopped_early and len(result.losses) == 3 and result.best_epoch == 1
    assert len(result.val_recall) == 3
    full = fit_heads(data, MODEL, HeadTrainingConfig(epochs=4, batch_size=48, lr=1e-2, patience=0))
    assert not full.stopped_early and len(full.losses) == 4


def test_fixed_temperature_stays_put_and_a_cancel_raises():
    data = _data()
    model = TowerClipConfig(**{**MODEL.to_dict(), "init_temperature": 0.2})
    # 10 steps: also the one schedule length where a 10% warm-up is a single step
    result = fit_heads(data, model, HeadTrainingConfig(epochs=2, batch_size=48, learn_temperature=False))
    assert float(result.heads.logit_scale) == pytest.approx(math.log(1 / 0.2))
    with pytest.raises(TrainingCancelled):
        fit_heads(data, MODEL, HeadTrainingConfig(epochs=2), should_stop=lambda: True)
