"""A first build serves search before it ends: keywords first, then the items encoded so far, edits kept."""

from __future__ import annotations

from PIL import Image

from recsys.accounts.principal import SYSTEM
from recsys.config import Settings
from recsys.encoders import create_encoder
from recsys.search.engine import SearchEngine
from recsys.search.types import SearchRequest
from recsys.service.taillift import TailLiftService
from recsys.training import first_start
from tests.small_catalog import COLOURS, fill_small_catalog, photo


def _service(tmp_path, **overrides) -> TailLiftService:
    settings = Settings.from_env({"data_dir": tmp_path / "data", "demo_limit": 0, **overrides}, environ={})
    service = TailLiftService(settings)
    fill_small_catalog(service)
    return service


def _titles(service, response) -> list[str]:
    items = service.get_items([h.item_id for h in response.hits])
    return [items[h.item_id].title for h in response.hits]


def test_keywords_then_the_items_encoded_so_far_then_everything_with_edits_kept(tmp_path):
    service = _service(tmp_path, progressive_publish_items=10)
    engine = SearchEngine(service.store, create_encoder(service.settings), service.settings)
    try:
        engine.publish_keywords()
        assert engine.coverage() == {
            "searchable": True,
            "items": 30,
            "items_with_vectors": 0,
            "model_version": engine.encoder.version,
            "complete": False,
        }
        by_keywords = engine.search(SearchRequest(text="red dress", k=3, log=False))
        assert _titles(service, by_keywords)[0] == "Red cotton dress"
        photo_only = engine.search(SearchRequest(image=_image(COLOURS["red"]), k=3, log=False))
        assert photo_only.hits == []  # no vectors yet: nothing, and no error

        served_by_vector: list[int] = []
        added: list[int] = []

        def progress(done: int, total: int, stage: str) -> None:
            served_by_vector.append(engine.coverage()["items_with_vectors"])
            if done > 10 and not added:  # a merchant saves while the build runs
                added.append(service.add_item(SYSTEM, {"title": "Purple velvet scarf"}, [photo((120, 20, 140))]).id)

        engine.build(progress, progressive=True)
        # Published after each chunk of 10; the scarf saved during the second chunk is in the third publish.
        assert served_by_vector == [0, 10, 21]
        assert engine.coverage()["complete"] and engine.coverage()["items_with_vectors"] == 31
        scarf = engine.search(SearchRequest(text="purple velvet scarf", k=3, log=False))
        assert scarf.hits[0].item_id == added[0]
        again = engine.search(SearchRequest(image=_image(COLOURS["red"]), k=30, log=False))
        assert len(again.hits) == 30
    finally:
        engine.close()
        service.close()


def test_a_build_that_replaces_a_complete_state_publishes_nothing_partial(tmp_path):
    service = _service(tmp_path, progressive_publish_items=10, encode_batch_size=5)
    service.load_models()
    engine = service._engine()
    try:
        complete = engine.holder.get()
        seen = []
        engine.switch_encoder(
            create_encoder(service.settings.replace(image_size=96)),  # another version: all 30 re-encoded
            lambda *_: seen.append(engine.holder.get()),
            progressive=True,
        )
        assert len(seen) == 6 and all(
            state is complete for state in seen
        )  # the old state served until the new one was whole
    finally:
        service.close()


def test_the_app_start_serves_keywords_while_the_heads_train(tmp_path, monkeypatch):
    service = _service(tmp_path)
    monkeypatch.setattr(first_start, "MIN_TRAINING_ITEMS", 20)  # 30 items: enough to train here
    real_train = first_start.train_heads
    during: list = []

    def train_heads(*args, **kwargs):
        during.append((service.status()["search"], service.search(SearchRequest(text="green watch", k=1, log=False))))
        return real_train(*args, **kwargs)

    monkeypatch.setattr(first_start, "train_heads", train_heads)
    try:
        service.start()
        ((coverage, response),) = during
        assert coverage["items_with_vectors"] == 0 and not coverage["complete"]
        assert _titles(service, response) == ["Green cotton watch"]
        final = service.status()
        assert final["startup"]["ready"] and final["search"]["complete"]
        assert final["search"]["items_with_vectors"] == 30
        assert [p["phase"] for p in final["startup"]["phases"]][-1] == "ready"
    finally:
        service.close()


def _image(rgb):
    return Image.new("RGB", (60, 80), rgb)
