import numpy as np
import pytest

from recsys.ranking.features.text_match import NAMES, text_match_features


def col(X: np.ndarray, name: str) -> np.ndarray:
    return X[:, NAMES.index(name)]


def test_coverage_phrase_and_head_on_hand_made_titles():
    X = text_match_features(
        "red dress",
        ["red summer dress", "long red dress", "blue dress", "red shoe"],
        ["", "a dress in red", "", "red dress shoe"],
    )
    assert X.shape == (4, len(NAMES)) and X.dtype == np.float32
    np.testing.assert_allclose(col(X, "title_cov"), [1.0, 1.0, 0.5, 0.5])
    np.testing.assert_allclose(col(X, "title_phrase"), [0, 1, 0, 0])
    np.testing.assert_allclose(col(X, "desc_phrase"), [0, 0, 0, 1])
    np.testing.assert_allclose(col(X, "head_in_title"), [1, 1, 1, 0])
    np.testing.assert_allclose(col(X, "title_bigram_cov"), [0, 1, 0, 0])
    np.testing.assert_allclose(col(X, "desc_missing"), [1, 0, 1, 0])
    np.testing.assert_allclose(col(X, "query_len"), 2)
    np.testing.assert_allclose(col(X, "title_len"), [3, 3, 2, 2])
    # |{red,dress} & {red,summer,dress}| / |union| = 2/3
    assert col(X, "title_jaccard")[0] == pytest.approx(2 / 3)
    np.testing.assert_allclose(col(X, "title_first_match_pos"), [0, 1 / 3, 1 / 2, 0])


def test_attribute_match_and_conflict():
    X = text_match_features("yellow dress size number", ["yellow dress number", "red dress"], ["", "size number"])
    # attribute tokens of the query: yellow, number ("size" is not a size value)
    np.testing.assert_allclose(col(X, "query_attr_count"), 2)
    np.testing.assert_allclose(col(X, "attr_title_match"), [1.0, 0.0])
    np.testing.assert_allclose(col(X, "attr_desc_match"), [0.0, 0.5])
    np.testing.assert_allclose(col(X, "attr_conflict"), [0, 1])


def test_fuzzy_coverage_accepts_stem_variants_only():
    X = text_match_features("christma light", ["christmas lights", "night light"], ["", ""])
    np.testing.assert_allclose(col(X, "title_cov"), [0.0, 0.5])
    np.testing.assert_allclose(col(X, "title_fuzzy_cov"), [1.0, 0.5])


def test_undefined_features_are_nan():
    X = text_match_features("dress", ["dress"], [""])
    assert np.isnan(col(X, "title_bigram_cov")[0])  # a one-word query has no bigram
    assert np.isnan(col(X, "attr_title_match")[0])  # and no attribute token
    empty = text_match_features("", ["dress"], [""])
    assert np.isnan(col(empty, "title_cov")[0]) and col(empty, "query_len")[0] == 0
