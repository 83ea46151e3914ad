"""Symmetric InfoNCE and the logQ correction on tiny tensors with hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from recsys.training.losses import (
    MAX_LOGIT_SCALE,
    contrastive_logits,
    info_nce_with_negatives,
    log_q_from_counts,
    symmetric_info_nce,
    uniform_negative_loss,
)

EYE = torch.eye(2)
ZERO_SCALE = torch.tensor(0.0)  # exp(0) = 1: logits are the raw cosines


def test_orthogonal_pairs_give_the_two_way_softmax_value():
    # logits [[1, 0], [0, 1]] in both directions: each row's loss is -log(e / (e + 1)) = log(1 + e^-1).
    expected = math.log(1 + math.exp(-1))
    assert float(symmetric_info_nce(EYE, EYE, ZERO_SCALE)) == pytest.approx(expected, abs=1e-6)


def test_asymmetric_case_averages_both_directions():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # both b rows match a[0]
    # a->b logits [[1, 1], [0, 0]]: each row log 2. b->a logits [[1, 0], [1, 0]]: row0 log(1+e^-1), row1 log(1+e).
    a_to_b = math.log(2)
    b_to_a = 0.5 * (math.log(1 + math.exp(-1)) + math.log(1 + math.exp(1)))
    assert float(symmetric_info_nce(a, b, ZERO_SCALE)) == pytest.approx(0.5 * (a_to_b + b_to_a), abs=1e-6)


def test_temperature_scales_the_logits_and_is_clamped_at_100():
    a_to_b, _ = contrastive_logits(EYE, EYE, torch.tensor(math.log(10.0)))
    assert torch.allclose(a_to_b, 10.0 * EYE)
    a_to_b, _ = contrastive_logits(EYE, EYE, torch.tensor(MAX_LOGIT_SCALE + 3.0))
    assert torch.allclose(a_to_b, 100.0 * EYE)


def test_log_q_is_subtracted_from_each_column_in_both_directions():
    log_q = torch.log(torch.tensor([0.9, 0.1]))
    a_to_b, b_to_a = contrastive_logits(EYE, EYE, ZERO_SCALE, log_q)
    expected = EYE - log_q.unsqueeze(0)  # column j gains -log q_j: the rare item 1 gains most
    assert torch.allclose(a_to_b, expected) and torch.allclose(b_to_a, expected)
    # Row 0's positive (frequent) now faces a relatively stronger rare negative: loss log(1 + e^(l1 - l0)).
    row0 = -torch.log_softmax(expected[0], dim=0)[0]
    assert float(row0) == pytest.approx(math.log(1 + math.exp(-1 - math.log(0.1) + math.log(0.9))), abs=1e-6)


def test_uniform_log_q_leaves_the_loss_unchanged():
    a, b = (
        torch.nn.functional.normalize(torch.randn(4, 3), dim=-1),
        torch.nn.functional.normalize(torch.randn(4, 3), dim=-1),
    )
    uniform = log_q_from_counts(torch.ones(4))
    assert torch.allclose(uniform, torch.full((4,), math.log(0.25)))
    assert float(symmetric_info_nce(a, b, ZERO_SCALE, uniform)) == pytest.approx(
        float(symmetric_info_nce(a, b, ZERO_SCALE)), abs=1e-6
    )


def test_log_q_from_counts_is_the_log_frequency():
    assert torch.allclose(log_q_from_counts(torch.tensor([3, 1])), torch.log(torch.tensor([0.75, 0.25])))


def test_hard_negatives_join_the_text_to_image_softmax_only():
    # Row i's hard negative is a copy of its own positive image: text->image row becomes [1, 0, 1] (2x2 case).
    hard = EYE.unsqueeze(1)  # [2, 1, 2]
    with_hard = info_nce_with_negatives(EYE, EYE, ZERO_SCALE, hard_images=hard)
    text_to_image = -math.log(math.e / (2 * math.e + 1))  # e^1 / (e^1 + e^0 + e^1)
    image_to_text = math.log(1 + math.exp(-1))  # unchanged: hard negatives add no image->text rows
    assert float(with_hard) == pytest.approx(0.5 * (text_to_image + image_to_text), abs=1e-6)
    assert float(info_nce_with_negatives(EYE, EYE, ZERO_SCALE)) == pytest.approx(
        float(symmetric_info_nce(EYE, EYE, ZERO_SCALE)), abs=1e-6
    )


def test_uniform_negative_loss_is_a_softmax_over_the_positive_and_the_draws():
    negatives = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    # Text 0 (= image 0 = [1, 0]): logits [1 | 0, 1]; text 1: [1 | 1, 0].
    expected = -math.log(math.e / (2 * math.e + 1))
    assert float(uniform_negative_loss(EYE, EYE, negatives, ZERO_SCALE)) == pytest.approx(expected, abs=1e-6)
    # Draws of the row's own item are masked out: text 0's draw 1 and text 1's draw 0 are their own items.
    same = torch.tensor([[False, True], [True, False]])
    masked = -math.log(math.e / (math.e + 1))
    assert float(uniform_negative_loss(EYE, EYE, negatives, ZERO_SCALE, same_item=same)) == pytest.approx(
        masked, abs=1e-6
    )
