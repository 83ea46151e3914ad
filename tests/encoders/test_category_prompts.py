"""Prompt ensembles for category queries: texts in name-major order, unit means per name."""

import numpy as np
import pytest

from recsys.encoders.category_prompts import TEMPLATES, ensemble, prompt_texts


def test_prompt_texts_are_name_major_and_hold_the_name():
    texts = prompt_texts(["Belts", "Socks"], ("{}", "a photo of {}"))
    assert texts == ["Belts", "a photo of Belts", "Socks", "a photo of Socks"]
    assert len(prompt_texts(["Belts"])) == len(TEMPLATES)
    with pytest.raises(ValueError):
        prompt_texts(["Belts"], ())


def test_ensemble_is_the_unit_mean_of_each_group():
    rows = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 0.0], [3.0, 0.0]])
    out = ensemble(rows, 2)
    assert out == pytest.approx(np.array([[2**-0.5, 2**-0.5], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="whole number"):
        ensemble(rows, 3)
