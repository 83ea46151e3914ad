import json

import numpy as np
import pytest

from recsys.recommend import (
    CooccurrenceRecommender,
    HypergraphRecommender,
    PopularityRecommender,
    Recommender,
)
from tests.recommend import toy


@pytest.mark.parametrize(
    "backend",
    [
        PopularityRecommender(),
        CooccurrenceRecommender(),
        HypergraphRecommender(alpha=0.5, beta=0.3, steps=3, edge_weights={"aisle": 0.5}),
    ],
)
def test_save_load_round_trip(backend, tmp_path):
    backend.fit(toy.interactions(), {"basket": toy.baskets(), "aisle": toy.aisles()})
    npz, meta = backend.save(tmp_path / "model")
    assert npz.name == "model.npz" and meta.name == "model.json"
    loaded = Recommender.load(tmp_path / "model")
    assert type(loaded) is type(backend) and loaded.config() == backend.config()
    for before, after in zip(
        backend.recommend([0, 1, 2], toy.interactions(), n=5), loaded.recommend([0, 1, 2], toy.interactions(), n=5)
    ):
        assert np.array_equal(before, after)
    assert not list(tmp_path.glob(".tmp-*"))  # atomic writes leave no temporaries


def test_load_rejects_mismatched_arrays_and_wrong_class(tmp_path):
    PopularityRecommender().fit(toy.interactions()).save(tmp_path / "a")
    CooccurrenceRecommender().fit(toy.interactions()).save(tmp_path / "b")
    with pytest.raises(TypeError):
        CooccurrenceRecommender.load(tmp_path / "a")
    (tmp_path / "a.npz").write_bytes((tmp_path / "b.npz").read_bytes())  # arrays from another save
    with pytest.raises(ValueError):
        Recommender.load(tmp_path / "a")
    assert json.loads((tmp_path / "b.json").read_text())["class"] == "CooccurrenceRecommender"
