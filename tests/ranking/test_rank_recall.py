"""``recall`` is the search engine's own recall: same candidates, same scores, same order."""

import io

import numpy as np
from PIL import Image

from recsys.search.filters import SearchFilters
from recsys.search.query_understanding_boost import rank_understood
from recsys.search.recall import recall
from recsys.search.types import SearchRequest
from tests.small_catalog import COLOURS, photo


def test_recall_then_ranking_reproduces_search(small_search_service):
    engine = small_search_service.engine
    image = Image.open(io.BytesIO(photo(COLOURS["red"])))
    requests = [
        SearchRequest(text="blue cotton dress", k=8, log=False),
        SearchRequest(text="cotton", k=30, filters=SearchFilters(max_price=15), log=False),
        SearchRequest(image=image, k=6, log=False),
        SearchRequest(text="watch", image=image, k=5, clicked_item_ids=(1, 2), log=False),
    ]
    for request in requests:
        response = engine.search(request)
        got = recall(engine.holder.get(), engine.encoder, request, engine.settings.recall_k)
        boost = engine.settings.understanding_boost  # "blue cotton dress": colour and type understood, boosted
        ranked = rank_understood(engine.ranking, got, engine.holder.get().table, engine.priors, request.k, boost)
        assert [h.item_id for h in response.hits] == got.item_ids[ranked.order].tolist()
        np.testing.assert_allclose([h.score for h in response.hits], ranked.scores[ranked.order], rtol=1e-6)
        assert response.candidates == len(got.item_ids)
