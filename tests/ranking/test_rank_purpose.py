"""Serving picks up only rankers trained for the catalog."""

import numpy as np
import pytest

from recsys.ranking.features import FEATURES
from recsys.ranking.ranker import CATALOG, JUDGMENTS, LambdaRanker, latest_version, new_version_dir
from recsys.search.rank import RankingStep


def tiny_ranker(purpose: str) -> LambdaRanker:
    rng = np.random.default_rng(0)
    X = rng.random((60, len(FEATURES))).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int)
    ranker = LambdaRanker(FEATURES.names, {"min_data_in_leaf": 2, "num_leaves": 3}, 5).fit(X, y, np.full(6, 10))
    ranker.purpose = purpose
    return ranker


def test_a_judgments_model_is_never_served_for_the_catalog(tmp_path):
    judged = tiny_ranker(JUDGMENTS)
    judged.save(new_version_dir(tmp_path, judged.fingerprint, JUDGMENTS))
    legacy = tmp_path / "ranker" / "20990101T000000000000Z-legacy00"  # pre-purpose layout, no purpose in meta
    judged.save(legacy)
    assert RankingStep(tmp_path).version == "fallback"
    catalog = tiny_ranker(CATALOG)
    path = catalog.save(new_version_dir(tmp_path, catalog.fingerprint, CATALOG))
    step = RankingStep(tmp_path)
    assert step.version == path.name and step.ranker.purpose == CATALOG
    assert latest_version(tmp_path, JUDGMENTS) != path


def test_a_mislabelled_model_in_the_catalog_folder_is_refused(tmp_path):
    judged = tiny_ranker(JUDGMENTS)
    path = judged.save(new_version_dir(tmp_path, judged.fingerprint, CATALOG))  # wrong folder for its purpose
    with pytest.raises(ValueError, match="judgments"):
        LambdaRanker.load(path, expect_purpose=CATALOG)
    assert RankingStep(tmp_path).version == "fallback"
