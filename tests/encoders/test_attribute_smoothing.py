"""Attribute hyperedge smoothing of item vectors: a no-op at alpha 0, items move toward their groups (a
singleton-type item toward its colour group), rows stay unit, bad input is refused with a reason."""

import numpy as np
import pytest

from recsys.encoders.attribute_smoothing import smooth


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


ROWS = _unit(np.random.default_rng(0).normal(size=(6, 8)).astype(np.float32))
GROUPS = {
    "type": ["Tshirts", "Tshirts", "Tshirts", "Tshirts", "Shirts", "Sarees"],  # Sarees: a type with one item
    "colour": ["Blue", "Red", "Blue", "Red", "Blue", "Blue"],
    "gender": ["Men", "Men", "", "", "Men", ""],
}


def test_alpha_zero_gives_the_rows_back():
    assert np.allclose(smooth(ROWS, GROUPS, 0.0), ROWS)
    assert np.allclose(smooth(ROWS, {}, 0.7), ROWS)


def test_a_singleton_type_item_moves_toward_its_colour_group():
    blue = [n for n, c in enumerate(GROUPS["colour"]) if c == "Blue"]
    centroid = _unit(ROWS[blue].mean(0, keepdims=True))[0]
    before = float(ROWS[5] @ centroid)
    for weighting in ("uniform", "inverse_sqrt"):
        after = smooth(ROWS, GROUPS, 0.5, weighting)
        assert float(after[5] @ centroid) > before + 0.02, weighting
    # with only the type edge, the singleton's centroid is itself: nothing moves
    alone = smooth(ROWS, {"type": GROUPS["type"]}, 0.5)
    assert np.allclose(alone[5], ROWS[5], atol=1e-6)


def test_members_of_a_group_get_closer_and_rows_stay_unit():
    out = smooth(ROWS, {"type": GROUPS["type"]}, 1.0)
    tees = [0, 1, 2, 3]
    spread = lambda v: np.mean([v[a] @ v[b] for a in tees for b in tees if a < b])
    assert spread(out) > spread(ROWS) + 0.1
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_inverse_sqrt_pulls_small_groups_harder():
    rows = _unit(np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32))
    groups = {"type": ["a", "a", "a", "a", "b"], "colour": ["x", "x", "x", "x", "x"]}
    uniform = smooth(rows, groups, 0.5, "uniform")
    scaled = smooth(rows, groups, 0.5, "inverse_sqrt")
    moved = lambda out: 1 - np.sum(out * rows, axis=1)
    assert moved(scaled)[0] < moved(uniform)[0]  # a member of groups of 4 and 5 is pulled less


def test_bad_input_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="one value per row"):
        smooth(ROWS, {"type": ["a"]}, 0.5)
    with pytest.raises(ValueError, match="alpha"):
        smooth(ROWS, GROUPS, -1.0)
    with pytest.raises(ValueError, match="weighting"):
        smooth(ROWS, GROUPS, 0.5, "cubic")
