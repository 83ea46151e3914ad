"""TextEncoder: a single text (a search query) goes through a traced forward that must give embed()'s vectors."""

from __future__ import annotations

import numpy as np
import torch

LONG = " ".join(["cotton"] * 300)  # past max_length: truncated, still one unpadded sequence


def eager(encoder, texts):
    with torch.no_grad():
        return encoder.embed(encoder.tokenize(texts)).numpy()


def test_one_text_is_encoded_as_the_batch_path_encodes_it(minilm):
    texts = ["", "red", "navy blue casual shirt for men", "红色连衣裙 red dress", LONG]
    for text in texts:
        np.testing.assert_allclose(minilm.encode([text]), eager(minilm, [text]), atol=1e-5)
    assert minilm._traced is not None and minilm._traced[1] is not None  # the traced path served them
    # A padded batch still takes the masked eager path: each row as if encoded alone.
    np.testing.assert_allclose(minilm.encode(texts), np.vstack([eager(minilm, [t]) for t in texts]), atol=1e-5)


def test_the_trace_follows_the_weights_and_a_copy_traces_its_own(minilm):
    copy = minilm.tuned_copy()
    before = copy.encode(["black sports shoes"])
    weight = copy.model.encoder.layer[-1].intermediate.dense.weight
    with torch.no_grad():
        weight.mul_(1.5)  # a training step, in place (a uniform bias shift would vanish in the LayerNorm)
    after = copy.encode(["black sports shoes"])
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, eager(copy, ["black sports shoes"]), atol=1e-5)
    assert copy._traced[0] is copy.model and minilm._traced[0] is minilm.model
    np.testing.assert_allclose(minilm.encode(["black sports shoes"]), before, atol=1e-5)  # the original untouched
