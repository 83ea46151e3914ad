"""Catalog ranker training on the small generated catalog: weak labels, held-out sources, serving pick-up."""

import numpy as np
import pandas as pd
import pytest

from recsys.ranking.ranker import CATALOG, LambdaRanker
from recsys.search.rank import RankingStep
from recsys.search.recall import recall
from recsys.search.types import SearchRequest
from recsys.splits import is_holdout
from recsys.training.catalog_ranker import (
    WEAK_LABELS,
    catalog_queries,
    click_log,
    enough_clicks,
    external_ids,
    train_catalog_ranker,
    weak_lists,
)

SMALL_GRID = {"num_leaves": [3, 7], "min_data_in_leaf": [5]}


@pytest.fixture(scope="module")
def trained(small_search_service, tmp_path_factory):
    models_dir = tmp_path_factory.mktemp("catalog-models")  # not the shared fixture's: its search order stays
    result, path = train_catalog_ranker(
        small_search_service.store,
        small_search_service.engine.snapshot(),
        max_queries=40,
        seed=0,
        grid=SMALL_GRID,
        max_rounds=40,
        models_dir=models_dir,
    )
    return result, path, models_dir


def test_held_out_items_are_never_query_sources(small_search_service):
    table = small_search_service.engine.holder.get().table
    held = dict(zip(table.ids.tolist(), (is_holdout(e) for e in external_ids(small_search_service.store, table.ids))))
    assert 0 < sum(held.values()) < len(held)  # the small catalog has items on both sides
    train = catalog_queries(
        small_search_service.store, small_search_service.engine.snapshot(), held_out=False, max_queries=100
    )
    test = catalog_queries(
        small_search_service.store, small_search_service.engine.snapshot(), held_out=True, max_queries=100
    )
    assert train and test
    assert not any(held[q.source_item_id] for q in train)
    assert all(held[q.source_item_id] for q in test)


def test_weak_lists_use_the_serving_features_and_grade_by_attributes(small_search_service):
    queries = catalog_queries(
        small_search_service.store, small_search_service.engine.snapshot(), held_out=False, max_queries=6
    )
    data = weak_lists(small_search_service.engine.snapshot(), queries)
    assert data.X.shape == (len(data.y), data.X.shape[1]) and data.groups.sum() == len(data.y)
    engine = small_search_service.engine
    got = recall(
        engine.holder.get(), engine.encoder, SearchRequest(text=data.queries[0], log=False), engine.settings.recall_k
    )
    first = data.query_index == 0
    np.testing.assert_array_equal(engine.ranking.rank(got.candidates, engine.priors, 5).features, data.X[first])
    assert set(np.unique(data.y)) <= {0, 1, 2, 3} and data.y.max() > 0


def test_training_saves_a_weak_catalog_version_that_serving_picks_up(trained, small_search_service):
    result, path, models_dir = trained
    assert path.parent == models_dir / "ranker" / CATALOG
    loaded = LambdaRanker.load(path, expect_purpose=CATALOG)
    assert loaded.training["labels"] == WEAK_LABELS and loaded.training["weak"] is True
    assert len(result.results) == 2 and np.isfinite(result.best.mean)
    step = RankingStep(models_dir)
    assert step.version == path.name
    fallback = RankingStep(models_dir / "empty")
    engine = small_search_service.engine
    changed = 0
    for text in ("blue dress", "black watch", "green cotton shirt", "yellow sneakers", "white handbag"):
        got = recall(engine.holder.get(), engine.encoder, SearchRequest(text=text, log=False), 200)
        k = len(got.item_ids)
        changed += not np.array_equal(
            step.rank(got.candidates, engine.priors, k).order, fallback.rank(got.candidates, engine.priors, k).order
        )
    assert changed > 0


def test_click_log_pairs_impressions_with_clicks(small_search_service):
    service = small_search_service
    item = int(service.engine.holder.get().table.ids[0])
    service.engine.log_event("click-test", item, "impression", "zz-probe", 3)
    service.engine.log_event("click-test", item, "click", "zz-probe", 3)
    frame = click_log(service.store)
    row = frame[(frame["session_id"] == "click-test") & (frame["query"] == "zz-probe")]
    assert row[["item_id", "position", "clicked"]].values.tolist() == [[item, 3, 1]]
    assert not enough_clicks(frame)  # one click is far below the threshold: weak labels stay in charge
    many = pd.DataFrame(
        {
            "session_id": "s",
            "query": [f"q{i % 60}" for i in range(300)],
            "item_id": range(300),
            "position": 1,
            "clicked": 1,
        }
    )
    assert enough_clicks(many)


def test_train_parser_registers_ranker_and_leaves_room_for_other_kinds(tmp_path):
    import argparse

    from recsys.training.cli import add_train_parser, cmd_train_ranker

    parser = argparse.ArgumentParser()
    kinds = add_train_parser(parser.add_subparsers(dest="command", required=True))
    kinds.add_parser("encoder").set_defaults(func="encoder")  # what `train encoder` will do beside it
    args = parser.parse_args(["train", "ranker", "--data", str(tmp_path), "-o", str(tmp_path / "cv.json"), "--json"])
    assert args.func is cmd_train_ranker and args.data == tmp_path and args.output == tmp_path / "cv.json" and args.json
    assert parser.parse_args(["train", "ranker"]).data is None
    assert parser.parse_args(["train", "encoder"]).func == "encoder"
