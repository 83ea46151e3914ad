"""The recommendation part of the service over the 30-item catalog: cold start, personal lists, item lists, basket
completion, the refit and its swap, and what ``record`` refuses."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from recsys.accounts.principal import ANONYMOUS, SYSTEM, Principal
from recsys.config import Settings
from recsys.service.errors import NotFound
from recsys.service.recommendations import Recommendations
from recsys.service.taillift import TailLiftService
from tests.small_catalog import fill_small_catalog


@pytest.fixture
def service(tmp_path):
    settings = Settings.from_env({"data_dir": tmp_path, "demo_limit": 0, "refit_every_events": 0}, environ={})
    service = TailLiftService(settings)
    fill_small_catalog(service)
    yield service
    service.close()


def by_title(service) -> dict[str, int]:
    views = service.get_items(list(range(1, 200)), with_reviews=False)
    return {v.title: v.id for v in views.values()}


def kind(service, item_id: int) -> str:
    return service.get_item(item_id).category


def seed_popular(service, titles: dict[str, int]) -> None:
    """Other shoppers' purchases make a few shirts the head."""
    for n in range(4):
        for title in ("Red cotton shirt", "Blue cotton shirt"):
            service.record(ANONYMOUS, f"buyer-{n}", titles[title], "purchase", order_id=f"order-{n}")


def test_cold_start_is_diverse_gives_the_tail_exposure_and_differs_between_new_shoppers(service):
    titles = by_title(service)
    seed_popular(service, titles)
    service.recommendations.fit_now()
    model = service.recommendations._model()
    tail_ids = {int(model.item_ids[i]) for i in range(model.n_items) if model.is_tail[i]}
    first = service.for_you(ANONYMOUS, "new-visitor-1", k=8)
    second = service.for_you(ANONYMOUS, "new-visitor-2", k=8)
    assert len(first) == 8 and all(r.reason.startswith("new here?") for r in first)
    assert len({kind(service, r.item_id) for r in first}) == 5  # every kind of the catalog
    assert sum(r.item_id in tail_ids for r in first) >= 0.3 * 8
    assert [r.item_id for r in first] != [r.item_id for r in second]  # the tail rotates across visitors
    popular = {titles["Red cotton shirt"], titles["Blue cotton shirt"]}
    assert not popular <= {r.item_id for r in first[:2]}  # not a bestseller list


def test_personal_list_moves_toward_the_viewed_items_with_reasons_naming_them(service):
    titles = by_title(service)
    seed_popular(service, titles)
    service.recommendations.fit_now()
    before = service.for_you(ANONYMOUS, "shopper", k=8)
    viewed = ["Green cotton dress", "Black cotton dress", "White cotton dress"]
    for title in viewed:
        service.record(ANONYMOUS, "shopper", titles[title], "view")
    after = service.for_you(ANONYMOUS, "shopper", k=8)  # no refit in between: read from the shopper's events
    dresses = lambda rows: sum(kind(service, r.item_id) == "Apparel > Dresses" for r in rows)  # noqa: E731
    assert dresses(after) > dresses(before)
    assert not {titles[t] for t in viewed} & {r.item_id for r in after}  # what they saw is not repeated
    assert all(r.reason.startswith("for you:") and any(t in r.reason for t in viewed) for r in after)


def test_item_lists_and_basket_completion_with_reasons(service):
    titles = by_title(service)
    seed_popular(service, titles)
    service.record(ANONYMOUS, "browser", titles["Red cotton shirt"], "view")
    service.record(ANONYMOUS, "browser", titles["Red cotton watch"], "view")
    service.recommendations.fit_now()
    lists = service.item_lists(titles["Red cotton shirt"], k=5)
    assert lists["similar"] == []  # no index in this test: the content list waits for it, the others do not
    bought = lists["bought_together"]
    assert bought[0].item_id == titles["Blue cotton shirt"] and "bought together" in bought[0].reason
    assert lists["also_viewed"][0].item_id == titles["Red cotton watch"] and "viewed" in lists["also_viewed"][0].reason
    # a tail item nobody bought or viewed still has neighbours, by its attributes
    lonely = service.item_lists(titles["Yellow cotton handbag"], k=5)
    assert len(lonely["bought_together"]) == 5 and all("same" in r.reason for r in lonely["bought_together"])
    basket = service.complete_basket([titles["Red cotton shirt"]], k=4)
    assert basket[0].item_id == titles["Blue cotton shirt"]
    assert all(r.reason.startswith("completes your basket") for r in basket)


def test_an_item_shows_once_across_the_item_pages_lists(service):
    titles = by_title(service)
    seed_popular(service, titles)
    service.recommendations.fit_now()
    lonely = titles["Yellow cotton handbag"]  # nobody bought or viewed it: both lists fall back to look-alikes
    alone = service.recommendations.item_lists(lonely, 5)
    bought = [r.item_id for r in alone["bought_together"]]
    viewed = [r.item_id for r in alone["also_viewed"]]
    assert len(bought) == len(viewed) == 5 and not set(bought) & set(viewed)
    # what the page shows above (its similar items) is left out of both, and the lists stay full
    shown = bought[:3]
    after = service.recommendations.item_lists(lonely, 5, shown)
    for name in ("bought_together", "also_viewed"):
        ids = [r.item_id for r in after[name]]
        assert len(ids) == 5 and not set(ids) & set(shown) and lonely not in ids
    assert not {r.item_id for r in after["bought_together"]} & {r.item_id for r in after["also_viewed"]}
    # a real co-purchase keeps its place and its reason in "bought together"
    popular = service.recommendations.item_lists(titles["Red cotton shirt"], 5)
    assert popular["bought_together"][0].item_id == titles["Blue cotton shirt"]
    assert titles["Blue cotton shirt"] not in [r.item_id for r in popular["also_viewed"]]


def test_refit_after_enough_events_swaps_atomically_and_keeps_versions(service, tmp_path):
    titles = by_title(service)
    service.recommendations.fit_now()
    first = service.recommendations.version
    service.settings = service.recommendations.settings = service.settings.replace(refit_every_events=3)
    stop, failures, seen = threading.Event(), [], set()

    def read_constantly():
        while not stop.is_set():
            try:
                seen.add(service.recommendations.version)
                rows = service.for_you(ANONYMOUS, "reader", k=6)
                assert len(rows) == 6 and len({r.item_id for r in rows}) == 6
            except Exception as exc:  # noqa: BLE001 - any failure during the swap is the finding
                failures.append(exc)

    reader = threading.Thread(target=read_constantly)
    reader.start()
    for title in ("Red cotton dress", "Blue cotton dress"):
        service.record(ANONYMOUS, "s", titles[title], "view")
    assert service.recommendations.version == first  # two events: under the threshold, nothing refits
    service.record(ANONYMOUS, "s", titles["Green cotton dress"], "view")
    assert service.recommendations.job.wait(60) and service.recommendations.job.status == "done"
    stop.set()
    reader.join()
    second = service.recommendations.version
    assert not failures and second != first and seen <= {first, second}
    assert service.recommendations._model().events == 3
    rows = {r["version"]: r for r in service.recommendations.versions()}
    assert rows[second]["parent"] == first and rows[second]["serving"] and rows[first]["fingerprint"]
    # a restart over the same data serves the saved version instead of fitting a new one
    restarted = Recommendations(service.store, service.settings)
    assert restarted.fit_now() == second and restarted._model().events == 3
    # ... but not when a setting the fit depends on changed (here the exposure allocation's price)
    changed = Recommendations(service.store, service.settings.replace(novelty_price=0.0))
    third = changed.fit_now()
    assert third not in (first, second) and changed.versions()[0]["config"]["novelty_price"] == 0.0


def test_record_refuses_bad_events_and_writes_nothing(service):
    titles = by_title(service)
    item = titles["Red cotton shirt"]
    for call in (
        lambda: service.record(ANONYMOUS, "s", item, "teleport"),
        lambda: service.record(ANONYMOUS, "s", item, "purchase"),
        lambda: service.record(ANONYMOUS, "", item, "view"),
    ):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(NotFound):
        service.record(ANONYMOUS, "s", 99999, "view")
    service.recommendations.fit_now()
    assert service.recommendations._model().events == 0
    service.record(Principal("alice"), "browser-x", item, "cart")
    service.recommendations.fit_now()
    assert list(service.recommendations._model().shoppers) == ["alice"]  # a signed-in shopper's events are theirs


def test_a_signed_in_shoppers_events_count_once_across_account_and_browser(service):
    titles = by_title(service)
    service.recommendations.fit_now()
    model = service.recommendations._model()
    service.record(Principal("bob"), "bob-browser", titles["Red cotton shirt"], "cart")
    service.record(ANONYMOUS, "bob-browser", titles["Blue cotton shirt"], "view")  # before signing in
    weights = service.recommendations.shopper_weights(model, ["bob", "bob-browser"])
    assert weights == {
        model.index_of([titles["Red cotton shirt"]])[0]: 3.0,
        model.index_of([titles["Blue cotton shirt"]])[0]: 1.0,
    }
    assert list(weights)[-1] == model.index_of([titles["Blue cotton shirt"]])[0]  # the newest last
    # The refit sees the same shopper: the browser's anonymous view is the account's, no shopper of its own.
    service.recommendations.fit_now()
    shoppers = service.recommendations._model().shoppers
    assert "bob" in shoppers and "bob-browser" not in shoppers


def test_a_new_item_reaches_the_lists_after_a_refit(service):
    service.recommendations.fit_now()
    service.settings = service.recommendations.settings = service.settings.replace(refit_every_events=1)
    added = service.add_item(SYSTEM, {"title": "Purple silk scarf", "category": "Accessories > Scarves"}, [])
    assert service.recommendations.job.wait(60) and service.recommendations.job.status == "done"
    model = service.recommendations._model()
    assert model.n_items == 31 and model.index_of([added.id])
    assert added.id in {
        r.item_id for r in service.for_you(ANONYMOUS, "scarf-fan", k=12)
    }  # the only scarf: its own type


def test_search_clicks_count_towards_a_refit_and_impressions_do_not(service):
    service.load_models()
    service.recommendations.fit_now()
    first = service.recommendations.version
    service.settings = service.recommendations.settings = service.settings.replace(refit_every_events=2)
    red, blue = by_title(service)["Red cotton dress"], by_title(service)["Blue cotton dress"]
    for item_id in (red, blue):
        service.log_event("clicker", item_id, "impression", "dress", 1)
    service.log_event("clicker", red, "click", "dress", 1)
    assert service.recommendations.version == first and service.recommendations.job is None
    service.log_event("clicker", blue, "click", "dress", 2)
    assert service.recommendations.job.wait(60) and service.recommendations.job.status == "done"
    assert service.recommendations.version != first


def test_recommender_versions_are_in_the_model_registry_with_parent_fingerprint_and_metrics(service):
    from recsys import registry
    from recsys.service.recommendations import REGISTRY_KIND

    service.settings = service.recommendations.settings = service.settings.replace(recommender_versions_kept=2)
    versions = []
    for title in ("Red cotton dress", "Blue cotton dress", "Green cotton dress"):
        service.record(ANONYMOUS, "registry", by_title(service)[title], "view")  # new data: a new fingerprint
        versions.append(service.recommendations.fit_now())
    listed = registry.list_versions(service.settings, kind=REGISTRY_KIND)
    assert listed == versions[1:]  # pruned with the served versions, oldest first
    config = registry.read_config(registry.version_dir(service.settings, versions[2]))
    assert config["parent"] == versions[1]
    assert config["data_fingerprint"] and versions[2].endswith(config["data_fingerprint"][:8])
    assert config["metrics"]["events"] >= 3 and config["metrics"]["items"] > 0
    assert (service.settings.models_dir / config["files"] / "version.json").is_file()


def test_many_shoppers_get_the_learned_list_with_the_refits_exposure_allocation(tmp_path):
    overrides = {"demo_limit": 0, "refit_every_events": 0, "novelty_price": 0.05, "for_you_items": 4}
    service = TailLiftService(Settings.from_env({"data_dir": tmp_path, **overrides}, environ={}))
    try:
        fill_small_catalog(service)
        ids = sorted(by_title(service).values())
        rng = np.random.default_rng(0)
        for n in range(24):  # two head items in turn, one of three shared items, two of their own three
            own = rng.choice(ids[5:], 3, replace=False)
            for order in range(3):
                basket = [ids[order % 2], ids[2 + n % 3], *rng.choice(own, 2, replace=False)]
                for item in dict.fromkeys(int(i) for i in basket):
                    service.record(ANONYMOUS, f"s{n}", item, "purchase", order_id=f"s{n}-o{order}")
        service.recommendations.fit_now()
        model = service.recommendations._model()
        assert model.ranker is not None and model.allocation
        for shopper, swap in sorted(model.allocation.items())[:5]:
            shown = {r.item_id for r in service.for_you(ANONYMOUS, shopper, k=4)}
            assert {int(model.item_ids[i]) for i in swap.added} <= shown
            assert not {int(model.item_ids[i]) for i in swap.dropped} & shown
        newest = service.recommendations.versions()[0]
        assert newest["ranker"] and newest["allocation_swaps"] >= len(model.allocation)
    finally:
        service.close()
