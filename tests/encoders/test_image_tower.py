"""The packaged EfficientNet-Lite0 tower: input size, feature size, flip averaging, real ImageNet weights."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from recsys.encoders.image_tower import ImageTower, tower_feature_dim, tower_input_size
from tests.encoders.models import COLOURS, garment_image


@pytest.fixture(scope="module")
def tower() -> ImageTower:
    return ImageTower(image_size=96, flip=True)


def test_input_keeps_the_catalog_aspect_ratio():
    assert tower_input_size(128) == (128, 96)
    assert tower_input_size(96) == (96, 72)


def test_features_have_the_declared_size_and_flip_invariance(tower):
    image = garment_image(COLOURS["red"])
    draw_on = image.copy()
    draw_on.paste((0, 0, 0), (5, 5, 20, 20))  # an asymmetric mark
    mirrored = draw_on.transpose(Image.FLIP_LEFT_RIGHT)
    feats = tower.features([draw_on, mirrored, garment_image(COLOURS["blue"])])
    assert feats.shape == (3, tower_feature_dim("efficientnet_lite0")) and feats.dtype == np.float32
    np.testing.assert_allclose(feats[0], feats[1], rtol=1e-4, atol=1e-4)  # mean over the flip is mirror-invariant
    assert not np.allclose(feats[0], feats[2], atol=1e-2)


def test_packaged_imagenet_weights_are_loaded(tower):
    # Untrained weights would give near-uniform class scores; the ImageNet head is confident on a real object.
    logits = tower.net(tower.pixels([garment_image(COLOURS["blue"])]))
    assert float(logits.softmax(-1).max()) > 0.05
    assert "96x72" in tower.id and tower.id.endswith("flip")


def test_unknown_tower_name_is_refused():
    with pytest.raises(ValueError):
        tower_feature_dim("resnet9000")
