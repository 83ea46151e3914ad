"""The real open_clip path, run on a tiny randomly initialised config registered from a temp folder."""

from __future__ import annotations

import json

import numpy as np
import open_clip
import pytest

from recsys.config import Settings
from recsys.encoders import FUSED, IMAGE, TEXT_CLIP, ItemContent, create_encoder
from tests.encoders.models import COLOURS, garment_image

TINY = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_settings(tmp_path_factory) -> Settings:
    folder = tmp_path_factory.mktemp("configs")
    (folder / "taillift-tiny-test.json").write_text(json.dumps(TINY))
    open_clip.add_model_config(folder)
    return Settings.from_env(
        {"data_dir": tmp_path_factory.mktemp("data"), "clip_model": "taillift-tiny-test"}, environ={}
    )


def test_open_clip_config_builds_an_encoder_with_its_embed_dim(tiny_settings, minilm):
    encoder = create_encoder(tiny_settings, text=minilm)
    assert encoder.trained is False  # no pretrained weights were named
    assert encoder.version.startswith("openclip-taillift-tiny-test-random")
    texts = encoder.encode_texts(["red shirt", "blue jeans"])
    images = encoder.encode_images([garment_image(COLOURS["red"]), garment_image(COLOURS["blue"], (300, 400))])
    assert texts.shape == (2, 32) and images.shape == (2, 32)
    assert np.allclose(np.linalg.norm(np.vstack([texts, images]), axis=1), 1.0, atol=1e-5)
    routes = encoder.encode_items([ItemContent("x", "Red shirt", images=[garment_image(COLOURS["red"])])])
    assert routes[IMAGE].shape == (1, 32) and routes[TEXT_CLIP].shape == (1, 32)
    assert routes[FUSED].shape == encoder.encode_query("red shirt")[FUSED].shape == (1, 32 + minilm.dim)


def test_untrained_open_clip_config_is_reproducible(tiny_settings, minilm):
    first, second = create_encoder(tiny_settings, text=minilm), create_encoder(tiny_settings, text=minilm)
    assert first.version == second.version
    np.testing.assert_array_equal(first.encode_texts(["red shirt"]), second.encode_texts(["red shirt"]))


def test_local_checkpoint_is_loaded_and_versioned_by_content(tiny_settings, minilm, tmp_path):
    import torch

    model = open_clip.create_model("taillift-tiny-test")
    with torch.no_grad():
        model.text_projection.mul_(-1.0)  # weights that differ from the seeded random init
    checkpoint = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), checkpoint)
    settings = tiny_settings.replace(clip_pretrained=str(checkpoint))
    loaded = create_encoder(settings, text=minilm)
    assert loaded.trained and "sha256-" in loaded.version
    model.eval()
    tokens = open_clip.get_tokenizer("taillift-tiny-test")(["red shirt"])
    with torch.no_grad():
        expected = torch.nn.functional.normalize(model.encode_text(tokens), dim=-1).numpy()
    np.testing.assert_allclose(loaded.encode_texts(["red shirt"]), expected, atol=1e-5)
