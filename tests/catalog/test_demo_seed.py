"""Seeding the demo catalog on first start: a seed that was cut off is finished by the next start, in the same
state as an uninterrupted seed; a finished seed is never run again. (Killed-process tests of the whole first
start are in tests/test_first_start_resume.py.)"""

from __future__ import annotations

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.catalog import importer
from recsys.catalog.demo import SEED_MARKER, read_seed_state
from recsys.service import catalog as catalog_service
from recsys.service.catalog import CatalogService
from tests.demo_catalog import write_demo_dir


class Killed(BaseException):
    """Stands for SIGKILL inside one process: nothing after it runs, committed transactions stay."""


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    return write_demo_dir(tmp_path_factory.mktemp("demo"), items=150, reviews=40)


def _settings(settings, demo_dir, name):
    return settings.replace(
        data_dir=settings.data_dir.parent / name,
        demo_dir=demo_dir / "fashion",
        demo_reviews_path=demo_dir / "reviews.csv",
        demo_limit=1000,
        import_batch_size=40,
    )


def _state(service: CatalogService):
    items = {i.external_id: (i.title, i.category, i.attributes) for i in _all(service)}
    reviews = sorted(
        (v.external_id, r.rating, r.title, r.text, r.source)
        for v in service.get_items([i.id for i in _all(service)]).values()
        for r in v.reviews
    )
    return items, reviews, service.stats()["images"]


def _all(service):
    pages = service.browse().pages
    return [i for p in range(1, pages + 1) for i in service.browse(page=p).items]


def _seed(settings):
    service = CatalogService(settings)
    try:
        service.seed_demo()
        return _state(service)
    finally:
        service.close()


@pytest.mark.parametrize("kill_at", ["second batch", "before reviews"])
def test_a_seed_cut_off_is_finished_by_the_next_start(settings, demo_dir, monkeypatch, kill_at):
    """The issue's case: killed with 1,000 of 1,500 items committed, every later start served the partial
    catalog with 0 reviews, because seeding ran only on an empty catalog."""
    whole = _seed(_settings(settings, demo_dir, "whole"))
    assert len(whole[0]) == 150 and whole[1], "the demo gives some women's items reviews"

    cut = _settings(settings, demo_dir, "cut")
    calls = {"n": 0}
    real_commit, real_attach = importer._commit_batch, catalog_service.attach_demo_reviews

    def commit(*args, **kwargs):
        calls["n"] += 1
        if kill_at == "second batch" and calls["n"] == 2:
            raise Killed
        return real_commit(*args, **kwargs)

    def attach(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(importer, "_commit_batch", commit)
    if kill_at == "before reviews":
        monkeypatch.setattr(catalog_service, "attach_demo_reviews", attach)
    with pytest.raises(Killed):
        _seed(cut)
    partial = CatalogService(cut)
    assert 0 < partial.stats()["items"] <= 150 and partial.stats()["reviews"] == 0
    partial.close()
    assert read_seed_state(cut.data_dir)["state"] == "seeding"

    monkeypatch.setattr(importer, "_commit_batch", real_commit)
    monkeypatch.setattr(catalog_service, "attach_demo_reviews", real_attach)
    assert _seed(cut) == whole
    assert read_seed_state(cut.data_dir)["state"] == "done"


def test_a_finished_seed_is_not_run_again(settings, demo_dir):
    done = _settings(settings, demo_dir, "done")
    first = _seed(done)
    service = CatalogService(done)
    deleted = service.browse(merchant="demo").items[0]
    service.delete_item(SYSTEM, deleted.id)
    assert service.seed_demo() is None  # the merchant's deletion stands
    assert service.stats()["items"] == len(first[0]) - 1
    service.close()


def test_a_catalog_without_a_marker_is_left_alone(settings, demo_dir):
    """Items but no marker: the merchant's own catalog, or one seeded before markers existed."""
    own = _settings(settings, demo_dir, "own")
    service = CatalogService(own)
    service.add_item(SYSTEM, {"title": "My own shirt"})
    assert service.seed_demo() is None and service.stats()["items"] == 1
    assert not (own.data_dir / SEED_MARKER).exists()
    service.close()


def test_demo_reviews_go_through_the_review_rules_and_to_demo_items_only(settings, demo_dir, tmp_path):
    bad = tmp_path / "reviews.csv"
    text = (demo_dir / "reviews.csv").read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join(text[:1] + [r.replace(",1,1,0,", ",NaN,1,0,") for r in text[1:]]), encoding="utf-8")
    shop = _settings(settings, demo_dir, "shop").replace(demo_reviews_path=bad)
    service = CatalogService(shop)
    mine = service.add_item(
        SYSTEM, {"title": "Women's red dress", "attributes": {"gender": "Women", "articleType": "Dresses"}}
    )
    (shop.data_dir / SEED_MARKER).write_text('{"state": "seeding"}', encoding="utf-8")  # a seed was cut off
    service.seed_demo()
    assert service.get_item(mine.id).reviews == []  # a merchant's own item gets no demo reviews
    ratings = {r.rating for v in service.get_items([i.id for i in _all(service)]).values() for r in v.reviews}
    assert ratings and 1 not in ratings  # the rows whose rating was NaN (rating 1 in the file) were skipped
    service.close()
