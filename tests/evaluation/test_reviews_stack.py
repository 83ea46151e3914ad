"""The reviews suite's extra text bases (NB-SVM) and the stack chosen by item-grouped cross-validation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from recsys.evaluation import reviews, reviews_stack
from tests.evaluation import fixtures


def _grouped(seed: int, n_items: int = 60, per_item: int = 8) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    rng = np.random.default_rng(seed)
    items = np.repeat(np.arange(n_items), per_item)
    y = rng.integers(0, 2, len(items))
    return items, y, rng


def test_select_stack_prefers_the_smaller_stack_when_a_part_adds_nothing():
    items, y, rng = _grouped(0)
    columns = {"signal": y + rng.normal(0, 0.8, len(y)), "noise": rng.normal(0, 1, len(y))}
    candidates = {"noise": ("noise",), "signal": ("signal",), "signal+noise": ("signal", "noise")}
    chosen, auc = reviews_stack.select_stack(columns, y, items, 0, candidates)
    assert auc["signal"] > auc["noise"] + 0.2
    assert chosen == "signal"  # "signal+noise" is at best a near-tie: the rule takes the fewer parts


def test_select_stack_takes_the_combination_when_it_is_clearly_better():
    items, y, rng = _grouped(1)
    # two views that each see the label through independent noise: together they are clearly better
    columns = {"a": y + rng.normal(0, 1.0, len(y)), "b": y + rng.normal(0, 1.0, len(y))}
    candidates = {"a": ("a",), "b": ("b",), "a+b": ("a", "b")}
    chosen, auc = reviews_stack.select_stack(columns, y, items, 0, candidates)
    assert auc["a+b"] > max(auc["a"], auc["b"]) + reviews_stack.TIE
    assert chosen == "a+b"


def test_select_stack_skips_candidates_without_their_columns():
    items, y, rng = _grouped(2)
    columns = {"a": y + rng.normal(0, 1.0, len(y))}
    chosen, auc = reviews_stack.select_stack(columns, y, items, 0, {"a": ("a",), "a+b": ("a", "b")})
    assert chosen == "a" and set(auc) == {"a"}
    with pytest.raises(ValueError, match="no stack candidate"):
        reviews_stack.select_stack(columns, y, items, 0, {"b": ("b",)})


def test_nb_logistic_weighs_grams_by_class_ratio():
    texts = ["love it perfect fit"] * 6 + ["returned it too small"] * 6 + ["love it but too small"] * 2
    y = np.array([1] * 6 + [0] * 6 + [0, 1])
    vec = CountVectorizer(binary=True)
    x = sparse.csr_matrix(vec.fit_transform(texts))
    model = reviews_stack.NBLogistic(seed=0).fit(x, y)
    ratio = dict(zip(vec.get_feature_names_out(), model.ratio_))
    assert ratio["love"] > 0 > ratio["returned"] and abs(ratio["it"]) < 0.2
    scores = model.decision_function(vec.transform(["perfect fit love", "returned too small"]))
    assert scores[0] > 0 > scores[1]
    with pytest.raises(ValueError, match="both labels"):
        reviews_stack.NBLogistic().fit(x[:6], y[:6])


def test_suite_reports_the_cv_selected_stack(tmp_path, settings):
    report = reviews.run(fixtures.write_reviews(tmp_path), settings=settings)
    methods, selection = report["methods"], report["stack_selection"]
    assert {"char_lr", "nbsvm_lr", "stacked_cv_lr"} <= set(methods)
    for name in ("char_lr", "nbsvm_lr", "stacked_cv_lr"):
        assert methods[name]["metrics"]["auc"] > methods["random"]["metrics"]["auc"]
    auc, chosen = selection["cv_auc"], selection["chosen"]
    assert set(auc) == set(reviews_stack.CANDIDATES)  # every candidate could be built and was scored
    near = [name for name, value in auc.items() if value >= max(auc.values()) - selection["tie"]]
    assert chosen in near
    assert len(reviews_stack.CANDIDATES[chosen]) == min(len(reviews_stack.CANDIDATES[n]) for n in near)
    assert chosen in methods["stacked_cv_lr"]["notes"]
