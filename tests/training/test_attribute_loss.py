"""The multi-positive attribute term: positives come from the attribute groups, gradients reach both heads, and
with singleton groups it is plain symmetric InfoNCE; in the training loop it pulls a type's phrase toward its
items."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from recsys.encoders.tower_clip import TowerClipConfig
from recsys.training.attributes import item_attributes, phrases
from recsys.training.head_fit import AttributeGroups, FitData, HeadTrainingConfig, attribute_term, fit_heads
from recsys.training.losses import multi_positive_info_nce, symmetric_info_nce

ZERO_SCALE = torch.tensor(0.0)  # exp(0) = 1: logits are the raw cosines


def _unit(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x, dim=1)


def test_singleton_groups_give_plain_symmetric_info_nce():
    gen = torch.Generator().manual_seed(0)
    a, b = _unit(torch.randn(6, 4, generator=gen)), _unit(torch.randn(6, 4, generator=gen))
    scale = torch.tensor(math.log(5.0))
    expected = symmetric_info_nce(a, b, scale)
    got = multi_positive_info_nce(a, b, torch.eye(6, dtype=torch.bool), scale)
    assert float(got) == pytest.approx(float(expected), abs=1e-6)


def test_every_member_of_a_group_is_a_positive_by_hand():
    # one phrase q = e0; items: two members (e0, e1) and one other (e1). Logits q->items = [1, 0, 0].
    q = torch.tensor([[1.0, 0.0]])
    items = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    member = torch.tensor([[True, True, False]])
    log_z = math.log(math.e + 2)
    to_items = -0.5 * ((1 - log_z) + (0 - log_z))  # mean log-probability of the two members
    to_queries = 0.0  # one phrase: each member's softmax over one query is 1
    got = multi_positive_info_nce(q, items, member, ZERO_SCALE)
    assert float(got) == pytest.approx(0.5 * (to_items + to_queries), abs=1e-6)


def test_members_moving_toward_their_phrase_lower_the_loss_and_gradients_flow():
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    items = torch.tensor([[0.6, 0.8], [0.8, 0.6], [0.0, 1.0]], requires_grad=True)
    member = torch.tensor([[True, True, False], [False, False, True]])
    loss = multi_positive_info_nce(q, items, member, torch.tensor(math.log(10.0)))
    loss.backward()
    assert q.grad is not None and items.grad is not None
    assert float(q.grad.abs().sum()) > 0 and float(items.grad.abs().sum()) > 0
    closer = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert float(multi_positive_info_nce(q.detach(), closer, member, torch.tensor(math.log(10.0)))) < float(
        loss.detach()
    )


def test_bad_masks_are_refused_with_a_reason():
    q, items = torch.eye(2), torch.eye(2)
    with pytest.raises(ValueError, match="member mask"):
        multi_positive_info_nce(q, items, torch.ones(3, 2, dtype=torch.bool), ZERO_SCALE)
    with pytest.raises(ValueError, match="more than one group"):
        multi_positive_info_nce(q, items, torch.ones(2, 2, dtype=torch.bool), ZERO_SCALE)


def test_positives_come_from_the_catalog_attributes():
    attrs = item_attributes("Apparel > Topwear > Tshirts", {"articleType": "Tshirts", "baseColour": "Blue"})
    assert attrs == (("type", "Tshirts"), ("colour", "Blue"))
    assert item_attributes("Home > Kitchen > Mugs", {"gender": "Unisex"}) == (("type", "Mugs"), ("gender", "Unisex"))
    assert "a photo of Tshirts" in phrases("type", "Tshirts")


MODEL = TowerClipConfig(image_dim=12, text_dim=12, embed_dim=6, hidden=0)


def _typed_data(seed: int = 0) -> tuple[FitData, torch.Tensor, np.ndarray]:
    """Three types, each a direction in image space; item texts are noise, so only the attribute term can tie a
    type's phrase (its own fixed feature row) to that type's images."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(3, 12, generator=gen)
    types = np.arange(120) % 3
    image = centres[types] + 0.3 * torch.randn(120, 12, generator=gen)
    text = torch.randn(120, 12, generator=gen)
    phrase = torch.randn(3, 1, 12, generator=gen)
    ids = np.arange(120)
    data = FitData(image, text, ids, ids, image[:0], ids[:0], ids[:0])
    data.attributes = [AttributeGroups("type", torch.from_numpy(types), phrase)]
    return data, phrase[:, 0], types


def _phrase_nearest_own_type(heads, phrase: torch.Tensor, image: torch.Tensor, types: np.ndarray) -> float:
    with torch.no_grad():
        q, v = heads.project_text(phrase), heads.project_image(image)
    top = (q @ v.T).topk(10, dim=1).indices.numpy()
    return float(np.mean([(types[row] == t).mean() for t, row in enumerate(top)]))


def test_the_term_in_the_loop_pulls_each_type_phrase_to_its_items():
    data, phrase, types = _typed_data()
    base = HeadTrainingConfig(epochs=15, batch_size=40, lr=1e-2, hidden=0, embed_dim=6, attribute_weight=0.0)
    off = fit_heads(data, MODEL, base).heads
    on = fit_heads(data, MODEL, HeadTrainingConfig(**{**base.__dict__, "attribute_weight": 1.0})).heads
    precision_off = _phrase_nearest_own_type(off, phrase, data.image, types)
    precision_on = _phrase_nearest_own_type(on, phrase, data.image, types)
    assert precision_on >= 0.9 and precision_on > precision_off + 0.2, (precision_off, precision_on)


def test_rows_without_a_value_are_left_out_of_the_term():
    data, _, _ = _typed_data()
    heads = fit_heads(data, MODEL, HeadTrainingConfig(epochs=1, lr=1e-9, hidden=0, embed_dim=6)).heads
    none = AttributeGroups("type", torch.full((120,), -1), data.attributes[0].phrases)
    image = _unit(torch.randn(4, 6))
    assert attribute_term(heads, [none], torch.arange(4), image, torch.Generator()) is None
