import numpy as np
import pytest

from recsys.ranking.features import FEATURES, CandidateList, build_features
from recsys.ranking.features.inputs import TokenVectors
from recsys.ranking.features.late_interaction import NAMES, late_interaction_features, word_maxsim


def unit(*rows):
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


E = np.eye(4, dtype=np.float32)
# query "x y": word 0 = one piece along e0, word 1 = two pieces along e1 and e2
QUERY = TokenVectors(unit(E[0], E[1], E[2]), np.array([0, 1, 1]))


def test_word_maxsim_averages_the_pieces_of_each_word():
    title = TokenVectors(unit(E[0], E[1]), np.array([0, 1]))
    np.testing.assert_allclose(word_maxsim(QUERY, title), [1.0, 0.5])  # e2 piece matches nothing
    assert word_maxsim(QUERY, TokenVectors(np.zeros((0, 4), np.float32), np.zeros(0, int))).size == 0


def test_late_interaction_mean_min_head_and_coverage():
    titles = [
        TokenVectors(unit(E[0], E[1], E[2]), np.array([0, 1, 2])),  # every query piece, nothing else
        TokenVectors(unit(E[0], E[3]), np.array([0, 1])),  # first word only, plus an unrelated word
        TokenVectors(unit(E[1] + E[2]), np.array([0])),
    ]  # the head word only, blurred
    X = late_interaction_features(QUERY, titles, 3)
    col = {name: X[:, j] for j, name in enumerate(NAMES)}
    np.testing.assert_allclose(col["li_title_mean"], [1.0, 0.5, (0.0 + np.sqrt(0.5)) / 2], rtol=1e-6)
    np.testing.assert_allclose(col["li_title_min"], [1.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(col["li_title_head"], [1.0, 0.0, np.sqrt(0.5)], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(col["li_title_cov"], [1.0, 0.5, np.sqrt(0.5)], rtol=1e-6)


def test_late_interaction_is_nan_without_token_vectors_and_checks_length():
    assert np.isnan(late_interaction_features(None, None, 2)).all()
    assert np.isnan(late_interaction_features(QUERY, None, 2)).all()
    with pytest.raises(ValueError):
        late_interaction_features(QUERY, [QUERY], 2)


def test_build_features_fills_the_family_from_the_candidate_list():
    c = CandidateList(
        "x y", ["x y", "z"], ["", ""], query_tokens=QUERY, title_tokens=[QUERY, TokenVectors(unit(E[3]), np.array([0]))]
    )
    X = build_features(c)
    np.testing.assert_allclose(X[:, FEATURES.index("li_title_mean")], [1.0, 0.0], atol=1e-6)
    without = build_features(CandidateList("x y", ["x y"], [""]))
    assert np.isnan(without[:, FEATURES.family_slice("late_interaction")]).all()


def test_the_vectorised_list_matches_the_one_title_definitions():
    from recsys.ranking.features.late_interaction import text_coverage

    rng = np.random.default_rng(0)

    def tokens(pieces: int, words: int) -> TokenVectors:
        vectors = rng.normal(size=(pieces, 8)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return TokenVectors(vectors, np.sort(rng.integers(0, words, size=pieces)) if pieces else np.zeros(0, int))

    query = TokenVectors(tokens(5, 1).vectors, np.array([0, 0, 1, 2, 2]))  # three words, 1-2 pieces each
    titles = [tokens(int(n), 4) for n in rng.integers(0, 9, size=30)]  # some titles have no pieces
    X = late_interaction_features(query, titles, len(titles))
    for row, title in enumerate(titles):
        if len(title.word_ids) == 0:
            assert np.isnan(X[row]).all()
            continue
        words = word_maxsim(query, title)
        expected = [words.mean(), words.min(), words[-1], text_coverage(query, title)]
        np.testing.assert_allclose(X[row], expected, rtol=1e-5, atol=1e-6)
