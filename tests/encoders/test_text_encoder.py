"""TextEncoder: a single text (a search query) goes through a traced forward that must give embed()'s vectors
(to float32 rounding; in bfloat16, to its rounding)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recsys.encoders.text import native_bf16_cpu, query_dtype

LONG = " ".join(["cotton"] * 300)  # past max_length: truncated, still one unpadded sequence


def eager(encoder, texts):
    with torch.no_grad():
        return encoder.embed(encoder.tokenize(texts)).numpy()


def in_precision(encoder, dtype):
    """A copy of ``encoder`` whose one-text trace runs in ``dtype``."""
    copy = encoder.tuned_copy()
    copy.query_dtype = dtype
    return copy


@pytest.fixture(scope="module")
def minilm32(minilm):
    return in_precision(minilm, torch.float32)


def test_one_text_is_encoded_as_the_batch_path_encodes_it(minilm32):
    minilm = minilm32
    texts = ["", "red", "navy blue casual shirt for men", "红色连衣裙 red dress", LONG]
    for text in texts:
        np.testing.assert_allclose(minilm.encode([text]), eager(minilm, [text]), atol=1e-5)
    assert minilm._traced is not None and minilm._traced[3] is not None  # the traced path served them
    # A padded batch still takes the masked eager path: each row as if encoded alone.
    np.testing.assert_allclose(minilm.encode(texts), np.vstack([eager(minilm, [t]) for t in texts]), atol=1e-5)


def test_the_trace_follows_the_weights_and_a_copy_traces_its_own(minilm32):
    minilm = minilm32
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


def test_a_bfloat16_query_is_the_float32_one_to_its_rounding_and_batches_stay_float32(minilm):
    bf16 = in_precision(minilm, torch.bfloat16)
    texts = ["red", "navy blue casual shirt for men", "红色连衣裙 red dress", LONG]
    for text in texts:
        got = bf16.encode([text])
        assert got.dtype == np.float32
        assert float(got[0] @ eager(minilm, [text])[0]) > 0.999  # measured min 0.9999 on 2,000 fashion titles
        assert np.abs(got - eager(minilm, [text])).max() > 1e-6  # it did run in bfloat16
    np.testing.assert_allclose(bf16.encode(texts), eager(minilm, texts), atol=1e-5)  # a batch: float32, as before


def test_a_bfloat16_trace_is_made_again_after_an_in_place_update(minilm):
    bf16 = in_precision(minilm, torch.bfloat16)
    before = bf16.encode(["black sports shoes"])
    with torch.no_grad():
        bf16.model.encoder.layer[-1].intermediate.dense.weight.mul_(1.5)  # the copy's weights: not the trace's
    after = bf16.encode(["black sports shoes"])
    assert np.abs(after - before).max() > 1e-3
    assert float(after[0] @ eager(bf16, ["black sports shoes"])[0]) > 0.999


def test_query_precision_setting():
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert query_dtype("float32", cpu) == torch.float32 and query_dtype("bfloat16", cpu) == torch.bfloat16
    assert query_dtype("auto", gpu) == torch.float32  # only the CPU path is measured in bfloat16
    assert query_dtype("auto", cpu) == (torch.bfloat16 if native_bf16_cpu() else torch.float32)
    with pytest.raises(ValueError, match="query precision"):
        query_dtype("int8", cpu)
    assert native_bf16_cpu("processor : 0\nflags : fpu avx2 avx512f avx512_bf16\n")
    assert not native_bf16_cpu("processor : 0\nflags : fpu avx2 avx512f avx512bw\n")  # emulated: slower
    assert not native_bf16_cpu("")
