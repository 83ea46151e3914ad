"""The multilingual query route in search: a non-English query's joint vector is one more ranking in recall's RRF.

The route here is the real one (USE + a multilingual head) with its projection replaced by a chosen item's joint
vector, so which item the route brings is known; the 30-item catalog's heads are untrained, which does not matter
to recall's fusion. ``recall_k`` is kept small so an item is reachable only through the route.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from recsys.encoders import FUSED
from recsys.encoders.fusion import normalize_rows
from recsys.encoders.multilingual import USE_MULTILINGUAL, MultilingualTextEncoder
from recsys.encoders.multilingual_head import MultilingualHead, MultilingualHeadConfig
from recsys.encoders.multilingual_head_store import load_head
from recsys.encoders.multilingual_query import MultilingualQueryRoute, load_route
from recsys.search.multilingual_recall import MultilingualRecall, MultilingualRoutes
from recsys.search.recall import recall
from recsys.search.types import NotReady, SearchRequest
from recsys.training import multilingual_head_fit
from recsys.training.multilingual_head_fit import fit_catalog_head

CHINESE = "真丝围巾"  # "silk scarf": no item has these words, and the lexicon does not know 真丝
K = 3  # recall depth: the text rankings fill it without the route's item


class PointingRoute(MultilingualQueryRoute):
    """The real route whose joint row for non-English text is a fixed vector (the target item's joint part)."""

    def __init__(self, row: np.ndarray) -> None:
        config = MultilingualHeadConfig(USE_MULTILINGUAL, "fixture", 512, row.shape[1], hidden=0)
        super().__init__(MultilingualTextEncoder(USE_MULTILINGUAL), MultilingualHead(config))
        self.row = row
        self.calls: list[str] = []

    def encode(self, text: str) -> np.ndarray:
        self.calls.append(text)
        return self.row


@pytest.fixture(scope="module")
def setup(small_search_service):
    engine = small_search_service.engine
    state, encoder = engine.holder.get(), engine.encoder
    joint = normalize_rows(state.routes[FUSED][:, : encoder.joint.dim])  # each item's joint part
    baseline = recall(state, encoder, SearchRequest(text=CHINESE, log=False), len(state.table))
    target = int(baseline.item_ids[-1])  # the text rankings' last item: far outside the top K
    route = PointingRoute(joint[state.table.rows(np.array([target]))])
    return engine, state, encoder, target, route


def test_a_chinese_query_finds_an_item_only_the_route_reaches(setup) -> None:
    engine, state, encoder, target, route = setup
    request = SearchRequest(text=CHINESE, log=False)
    without = recall(state, encoder, request, K)
    assert target not in without.item_ids
    got = recall(state, encoder, request, K, multilingual=MultilingualRecall(route, 1.0))
    assert target in got.item_ids and len(got.item_ids) == K
    assert route.calls[-1] == CHINESE  # the text as typed is what the route encodes
    # Text + photo: the route joins the text part there too.
    photo = SearchRequest(text=CHINESE, image=_photo(), log=False)
    assert target not in recall(state, encoder, photo, K).item_ids
    assert target in recall(state, encoder, photo, K, multilingual=MultilingualRecall(route, 1.0)).item_ids


def test_the_route_is_one_more_ranking_not_a_replacement(setup) -> None:
    _, state, encoder, target, route = setup
    request = SearchRequest(text=CHINESE, log=False)
    n = len(state.table)
    without = recall(state, encoder, request, n).item_ids.tolist()
    with_route = recall(state, encoder, request, n, multilingual=MultilingualRecall(route, 1.0)).item_ids.tolist()
    assert sorted(with_route) == sorted(without)  # the same candidates, fused again
    assert with_route.index(target) < without.index(target) == n - 1  # the route lifted its item
    # A near-zero weight leaves the text rankings' order: the route is added to them, it does not replace them.
    faint = recall(state, encoder, request, n, multilingual=MultilingualRecall(route, 1e-9)).item_ids.tolist()
    assert faint == without


def test_with_features_the_ranker_sees_the_route_row_in_its_similarities(setup) -> None:
    _, state, encoder, target, route = setup
    request = SearchRequest(text=CHINESE, log=False)
    n = len(state.table)
    plain = recall(state, encoder, request, n)
    only_rrf = recall(state, encoder, request, n, multilingual=MultilingualRecall(route, 1.0, features=False))
    fed = recall(state, encoder, request, n, multilingual=MultilingualRecall(route, 1.0, features=True))

    def text_image(got) -> np.ndarray:  # cos_text_image per item, in table order
        return got.similarities["text_image"][np.argsort(got.rows)]

    np.testing.assert_allclose(text_image(only_rrf), text_image(plain), atol=1e-6)  # MiniLM's row, as before
    want = state.routes["image"] @ route.row[0]  # the route's row against every item's photo
    np.testing.assert_allclose(text_image(fed), want, atol=1e-5)
    assert not np.allclose(text_image(fed), text_image(plain), atol=1e-3)
    np.testing.assert_allclose(
        fed.similarities["text_bert"][np.argsort(fed.rows)],
        plain.similarities["text_bert"][np.argsort(plain.rows)],
        atol=1e-6,
    )  # MiniLM's own columns stay


def test_english_text_and_weight_zero_leave_recall_as_it_was(setup) -> None:
    _, state, encoder, target, route = setup
    for text in ("green cotton watch", "red dress"):
        request = SearchRequest(text=text, log=False)
        plain = recall(state, encoder, request, K).item_ids
        assert recall(state, encoder, request, K, multilingual=MultilingualRecall(route, 1.0)).item_ids.tolist() == (
            plain.tolist()
        )
    request = SearchRequest(text=CHINESE, log=False)
    off = recall(state, encoder, request, K, multilingual=MultilingualRecall(route, 0.0)).item_ids
    assert off.tolist() == recall(state, encoder, request, K).item_ids.tolist()


def test_the_engine_serves_the_route_loaded_once_per_version(setup, monkeypatch) -> None:
    engine, state, encoder, target, route = setup
    loaded: list[str] = []

    def loader(settings, version):
        loaded.append(version)
        return route

    monkeypatch.setattr(engine, "settings", replace(engine.settings, recall_k=K))
    monkeypatch.setattr(engine, "multilingual", MultilingualRoutes(engine.settings, loader))
    english = engine.search(SearchRequest(text="green cotton watch", k=K, log=False))
    assert loaded == [] and english.hits  # an English query loads nothing
    for _ in range(3):
        hits = engine.search(SearchRequest(text=CHINESE, k=K, log=False)).hits
        assert target in [h.item_id for h in hits]
    assert loaded == [encoder.joint.version]  # once, not per query
    assert engine.snapshot().multilingual is not None  # ranker training and benchmarks recall the same way
    engine.multilingual.forget(encoder.version)  # a head was refitted: the next query loads it again
    engine.search(SearchRequest(text=CHINESE, k=K, log=False))
    assert loaded == [encoder.joint.version] * 2


def test_without_a_head_search_is_as_before(setup, monkeypatch) -> None:
    engine, state, encoder, target, route = setup
    monkeypatch.setattr(engine, "settings", replace(engine.settings, recall_k=K))
    monkeypatch.setattr(engine, "multilingual", MultilingualRoutes(engine.settings))  # reads the (empty) models dir
    hits = {h.item_id for h in engine.search(SearchRequest(text=CHINESE, k=K, log=False)).hits}
    assert engine.multilingual.get(encoder) is None and engine.multilingual.loads == 1
    assert hits == set(recall(state, encoder, SearchRequest(text=CHINESE, log=False), K).item_ids.tolist())
    assert target not in hits
    assert engine.snapshot().multilingual is None


def test_a_head_of_another_width_is_not_served(setup, tmp_path) -> None:
    engine, _, encoder, _, _ = setup
    settings = replace(engine.settings, data_dir=tmp_path)
    wrong = PointingRoute(np.ones((1, encoder.joint.dim + 1), np.float32))
    assert MultilingualRoutes(settings, lambda s, v: wrong).get(encoder) is None


def test_a_catalog_fit_stores_a_head_the_route_loads(setup, tmp_path, monkeypatch) -> None:
    engine, state, encoder, _, _ = setup
    monkeypatch.setattr(multilingual_head_fit, "MIN_PAIRS", 10)
    settings = replace(engine.settings, data_dir=tmp_path)
    version = "towerclip-fixture"
    image = state.routes["image"]
    keys = [f"item-{i}" for i in state.table.ids]
    fit = fit_catalog_head(settings, version, keys, state.table.titles, image)
    assert fit.metrics["fit_pairs"] + fit.metrics["validation_pairs"] == int((np.abs(image).sum(1) > 0).sum())
    assert fit.metrics["titles_encoded"] == len(set(state.table.titles))
    head = load_head(settings, version, settings.multilingual_text_model)
    assert head is not None and head.config.embed_dim == encoder.joint.dim
    route = load_route(settings, version)
    assert route is not None and route.joint_vector(CHINESE).shape == (1, encoder.joint.dim)
    again = fit_catalog_head(settings, version, keys, state.table.titles, image)
    assert again.metrics["titles_encoded"] == 0  # the titles come from the feature cache the second time
    with pytest.raises(ValueError, match="at least"):
        fit_catalog_head(settings, version, keys[:5], state.table.titles[:5], image[:5])


def test_the_service_fits_only_for_a_trained_version(small_search_service) -> None:
    from recsys.accounts.principal import SYSTEM

    with pytest.raises(NotReady, match="no trained encoder version"):
        small_search_service.fit_multilingual_head(SYSTEM)
    assert small_search_service.fit_multilingual_head_in_background() is None  # untrained, and 30 items


def _photo():
    import io

    from PIL import Image

    from tests.small_catalog import COLOURS, photo

    return Image.open(io.BytesIO(photo(COLOURS["yellow"])))
