import numpy as np

from recsys.ranking.cv import expand_grid, grid_search_cv, query_folds, sort_by_query, train_and_save
from recsys.ranking.ranker import LambdaRanker


def test_no_query_lands_in_two_folds():
    rng = np.random.default_rng(0)
    queries = rng.choice([f"q{i}" for i in range(23)], size=300)
    order, codes, groups = sort_by_query(queries)
    assert (np.diff(codes) >= 0).all() and groups.sum() == 300
    folds = query_folds(codes, n_splits=5, seed=0)
    seen = np.concatenate([va for _, va in folds])
    assert sorted(seen.tolist()) == list(range(300))
    for tr, va in folds:
        assert not set(codes[tr]) & set(codes[va])
    fold_of_query = {}
    for f, (_, va) in enumerate(folds):
        for q in set(codes[va]):
            assert fold_of_query.setdefault(q, f) == f


def test_expand_grid_is_the_cartesian_product():
    assert expand_grid({"a": [1, 2], "b": [3]}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]


def test_grid_search_reports_every_config_and_saves_a_version(tmp_path):
    rng = np.random.default_rng(0)
    n_q, per = 25, 10
    X = rng.random((n_q * per, 2)).astype(np.float32)
    y = np.clip(np.round(3 * X[:, 0] + 0.3 * rng.standard_normal(n_q * per)), 0, 3).astype(int)
    queries = np.repeat(np.arange(n_q), per)
    shuffle = rng.permutation(len(y))  # rows need not come grouped
    grid = {"num_leaves": [3, 7], "min_data_in_leaf": [5]}
    result, path = train_and_save(
        X[shuffle], y[shuffle], queries[shuffle], ("signal", "noise"), tmp_path, grid=grid, max_rounds=60
    )
    assert len(result.results) == 2 and all(len(r.fold_ndcg) == 5 for r in result.results)
    assert result.best.mean == max(r.mean for r in result.results) and result.best.mean > 0.8
    assert path.parent == tmp_path / "ranker" / "judgments"  # the default purpose: an external judgment file
    loaded = LambdaRanker.load(path)
    assert loaded.cv_scores["mean"] == result.best.mean and len(loaded.cv_scores["grid"]) == 2
    np.testing.assert_array_equal(loaded.predict(X), result.ranker.predict(X))
    again = grid_search_cv(X[shuffle], y[shuffle], queries[shuffle], ("signal", "noise"), grid=grid, max_rounds=60)
    assert [r.fold_ndcg for r in again.results] == [r.fold_ndcg for r in result.results]  # seeded
