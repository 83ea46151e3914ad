import numpy as np
import pytest

from recsys.ranking.linear import LinearBlend, per_query_z


def test_per_query_z_standardises_within_each_query_and_zeroes_missing():
    X = np.array([[1.0, np.nan], [3.0, np.nan], [10.0, 5.0], [10.0, 7.0]])
    z = per_query_z(X, ["a", "a", "b", "b"])
    np.testing.assert_allclose(z[:, 0], [-1, 1, 0, 0])  # query b has no spread in column 0
    np.testing.assert_allclose(z[:, 1], [0, 0, -1, 1])  # query a has no values in column 1


def test_linear_blend_learns_the_useful_column_and_ignores_query_offsets():
    rng = np.random.default_rng(0)
    names = ("noise", "cos_text_doc", "li_title_mean", "prf_sim")
    queries = np.repeat(np.arange(30), 10)
    signal = rng.normal(size=300)
    grade = np.clip(np.round(2.5 + signal), 1, 4)
    X = np.column_stack(
        [rng.normal(size=300), signal + 100 * queries, rng.normal(size=300), rng.normal(size=300)]
    )  # per-query offsets on the useful column
    blend = LinearBlend(names).fit(X, grade, queries)
    w = blend.weights()
    assert set(w) == {"cos_text_doc", "li_title_mean", "prf_sim"}  # "noise" is not a blend input
    assert w["cos_text_doc"] > 0.5 and abs(w["li_title_mean"]) < 0.2 and abs(w["prf_sim"]) < 0.2
    scores = blend.predict(X, queries)
    within = per_query_z(signal[:, None], queries)[:, 0]  # the order inside each query is what counts
    assert np.corrcoef(scores, within)[0, 1] > 0.99


def test_linear_blend_save_load_round_trip(tmp_path):
    names = ("cos_text_doc", "li_title_mean", "prf_sim")
    X = np.array([[0.1, 0.2, 0.3], [0.5, 0.1, 0.2], [0.3, 0.9, 0.1], [0.2, 0.4, 0.8]])
    blend = LinearBlend(names).fit(X, [1, 4, 3, 2], ["q", "q", "r", "r"])
    loaded = LinearBlend.load(blend.save(tmp_path / "blend.json"))
    np.testing.assert_allclose(loaded.predict(X, list("qqrr")), blend.predict(X, list("qqrr")))
    with pytest.raises(ValueError):
        blend.predict(X[:, :1], list("qqrr"))
    with pytest.raises(RuntimeError):
        LinearBlend(names).predict(X, list("qqrr"))
