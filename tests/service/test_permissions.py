"""Who may do what, checked in the service: every change refused for the wrong principal changes nothing."""

from __future__ import annotations

import time

import pytest

from recsys.accounts.principal import ADMIN, ANONYMOUS, MERCHANT, SHOPPER, SYSTEM, Principal
from recsys.evaluation.encoder_comparison import QUICK
from recsys.service.catalog import CatalogService
from recsys.service.errors import NotAllowed
from recsys.service.permissions import ACTIONS, allowed
from recsys.service.taillift import TailLiftService
from recsys.training import encoder_runs
from recsys.training.heads import TrainingCancelled
from recsys.training.run_options import EncoderRunOptions
from tests.catalog.bad_inputs import jpeg, write_csv
from tests.small_catalog import small_search_service_at

ALICE, BOB = Principal("alice", MERCHANT), Principal("bob", MERCHANT)
SHOPPER_ACCOUNT = Principal("sam", SHOPPER)
ROOT = Principal("root", ADMIN)


@pytest.fixture
def service(settings):
    svc = CatalogService(settings.replace(reviews_per_hour=3, import_rows_per_hour=5))
    yield svc
    svc.close()


def snapshot(service: CatalogService) -> dict:
    return {**service.stats(), "titles": sorted(i.title for i in service.browse().items)}


def test_the_action_table_gives_each_role_what_the_issue_says():
    assert allowed(ANONYMOUS, "search") and not allowed(ANONYMOUS, "review") and allowed(SHOPPER_ACCOUNT, "review")
    assert not allowed(SHOPPER_ACCOUNT, "edit items") and allowed(ALICE, "edit items") and allowed(ALICE, "import")
    admin_only = [a for a, roles in ACTIONS.items() if roles == (ADMIN,)]
    assert set(admin_only) >= {"train encoder", "serve encoder", "retrain ranker", "evaluate", "manage users"}
    assert not any(allowed(ALICE, a) for a in admin_only) and all(allowed(ROOT, a) for a in admin_only)


def test_anonymous_and_shopper_changes_are_refused_and_change_nothing(service, tmp_path):
    item = service.add_item(ALICE, {"title": "Alice's scarf"}, [jpeg()])
    catalog = write_csv(tmp_path / "c.csv", ["id", "title"], [["x", "Sneaked in"]])
    before = snapshot(service)
    changes = (
        lambda actor: service.add_item(actor, {"title": "Sneaked in"}),
        lambda actor: service.update_item(actor, item.id, {"title": "Hacked"}),
        lambda actor: service.delete_item(actor, item.id),
        lambda actor: service.import_bundle(actor, catalog, None),
        lambda actor: service.collect_image_garbage(actor, dry_run=True),
        lambda actor: service.identity.add_user(actor, "mallory", "admin", "mallory-pass"),
    )
    for actor in (ANONYMOUS, SHOPPER_ACCOUNT):
        for change in changes:
            with pytest.raises(NotAllowed, match="not allowed"):
                change(actor)
    with pytest.raises(NotAllowed, match="sign in"):
        service.add_review(ANONYMOUS, item.id, 5, "", "great")
    assert snapshot(service) == before


def test_merchants_change_only_their_own_items_by_any_parameter(service, tmp_path):
    mine = service.add_item(ALICE, {"external_id": "sku-1", "title": "Alice's scarf"}, [jpeg()])
    for change in (
        lambda: service.update_item(BOB, mine.id, {"title": "Bob was here"}),
        lambda: service.update_item(BOB, str(mine.id), {"title": "Bob was here"}),
        lambda: service.delete_item(BOB, mine.id),
        lambda: service.add_item(BOB, {"title": "Filed under Alice"}, merchant="alice"),
        lambda: service.import_bundle(
            BOB, write_csv(tmp_path / "a.csv", ["id", "title"], [["q", "Q"]]), merchant="alice"
        ),
    ):
        with pytest.raises(NotAllowed) as refused:
            change()
        assert "alice" not in str(refused.value).lower()  # never names the owner
    # Re-importing Alice's own id makes Bob an item of his own; Alice's stays as it was.
    report = service.import_bundle(BOB, write_csv(tmp_path / "b.csv", ["id", "title"], [["sku-1", "Bob's sku-1"]]))
    assert report.added == 1 and report.updated == 0
    assert service.get_item(mine.id).title == "Alice's scarf" and service.get_item(mine.id).merchant == "alice"
    # An admin changes every merchant's items, and may file new ones for a merchant.
    assert service.update_item(ROOT, mine.id, {"title": "Fixed by admin"}).title == "Fixed by admin"
    assert service.add_item(ROOT, {"title": "For Bob"}, merchant="bob").merchant == "bob"
    service.delete_item(ROOT, mine.id)


def test_one_review_per_account_and_an_hourly_limit(service):
    items = [service.add_item(ALICE, {"title": f"Scarf {n}"}) for n in range(5)]
    service.add_review(SHOPPER_ACCOUNT, items[0].id, 5, "", "lovely")
    with pytest.raises(NotAllowed, match="already reviewed"):
        service.add_review(SHOPPER_ACCOUNT, items[0].id, 1, "", "changed my mind, twice")
    service.add_review(SHOPPER_ACCOUNT, items[1].id, 4)
    service.add_review(SHOPPER_ACCOUNT, items[2].id, 4)
    with pytest.raises(NotAllowed, match="limit of 3 reviews per hour"):
        service.add_review(SHOPPER_ACCOUNT, items[3].id, 4)
    assert service.stats()["reviews"] == 3
    service.add_review(ROOT, items[3].id, 3)  # another account has its own allowance


def test_bulk_import_rows_are_limited_per_merchant_per_hour(service, tmp_path):
    rows = [[f"r{n}", f"Row {n}"] for n in range(4)]
    assert service.import_bundle(ALICE, write_csv(tmp_path / "a.csv", ["id", "title"], rows)).added == 4
    assert service.import_bundle(ALICE, write_csv(tmp_path / "b.csv", ["id", "title"], rows[:1])).ok  # 5th row: ok
    with pytest.raises(NotAllowed, match="limit of 5 bulk-import rows per hour"):
        service.import_bundle(ALICE, write_csv(tmp_path / "c.csv", ["id", "title"], rows[:1]))
    assert service.import_bundle(BOB, write_csv(tmp_path / "d.csv", ["id", "title"], rows[:1])).added == 1


def test_local_accounts_sign_in_with_a_token_and_hf_users_are_merchants_or_listed_admins(settings):
    service = CatalogService(settings.replace(admins="ada, grace", admin_user="first-admin", admin_password="x" * 12))
    identity = service.identity
    assert identity.list_users(SYSTEM) == [Principal("first-admin", ADMIN)]  # created from the settings at start
    identity.add_user(SYSTEM, "alice", "merchant", "alice-secret")
    with pytest.raises(NotAllowed, match="unknown user name or wrong password"):
        identity.sign_in("alice", "wrong")
    with pytest.raises(NotAllowed, match="unknown user name or wrong password"):
        identity.sign_in("nobody", "alice-secret")
    token = identity.sign_in("alice", "alice-secret")
    assert identity.principal(token=token) == ALICE
    identity.sign_out(token)
    assert identity.principal(token=token) == ANONYMOUS
    assert identity.principal(hf_user="octocat") == Principal("octocat", MERCHANT)
    assert identity.principal(hf_user="grace") == Principal("grace", ADMIN)
    with pytest.raises(ValueError, match="reserved"):
        identity.add_user(SYSTEM, "demo", "merchant", "demo-password")
    service.close()


@pytest.fixture
def search_service(tmp_path):
    service = small_search_service_at(tmp_path / "data")
    yield service
    service.close()


def test_training_and_serving_are_for_admins_only(search_service: TailLiftService):
    versions_before = search_service.encoder_versions()
    for change in (
        lambda: search_service.start_encoder_run(ALICE, EncoderRunOptions(epochs=1)),
        lambda: search_service.retrain_ranker(ALICE),
        lambda: search_service.switch_encoder(ALICE, "any-version"),
        lambda: search_service.rollback(ANONYMOUS),
        lambda: search_service.compare_encoder(
            ALICE, encoder_runs.EncoderRun(None, EncoderRunOptions(epochs=1)), QUICK
        ),
    ):
        with pytest.raises(NotAllowed, match="needs an admin account|sign in"):
            change()
    assert search_service.ranker_job is None and search_service.encoder_versions() == versions_before


def test_merchants_cannot_review_their_own_items(service):
    item = service.add_item(ALICE, {"title": "Alice's scarf"})
    with pytest.raises(NotAllowed, match="own items"):
        service.add_review(ALICE, item.id, 5, "", "best scarf ever")


def test_guessing_passwords_is_limited_per_name_and_hf_names_cannot_take_local_or_reserved_ones(service):
    identity = service.identity
    identity.add_user(SYSTEM, "alice", "merchant", "alice-secret")
    for _ in range(identity.failed_sign_ins.per_hour):
        with pytest.raises(NotAllowed, match="wrong password"):
            identity.sign_in("alice", "guess")
    with pytest.raises(NotAllowed, match="failed sign-ins per hour"):
        identity.sign_in("alice", "alice-secret")  # even the right password waits now
    assert identity.principal(hf_user="alice") == ANONYMOUS  # not the local merchant's items
    assert identity.principal(hf_user="Demo") == ANONYMOUS  # not the demo catalog's owner


def test_one_encoder_run_at_a_time_and_cancel_is_for_admins(search_service: TailLiftService, monkeypatch):
    def training_until_cancelled(catalog, options, *, should_stop, **kwargs):  # minutes of training, until cancel
        deadline = time.monotonic() + 60
        while not should_stop() and time.monotonic() < deadline:
            time.sleep(0.05)
        raise TrainingCancelled("cancelled by the test")

    monkeypatch.setattr(encoder_runs, "train_encoder", training_until_cancelled)
    run = search_service.start_encoder_run(ROOT, EncoderRunOptions(epochs=1, batch_size=8))
    try:
        with pytest.raises(NotAllowed, match="already in progress"):
            search_service.start_encoder_run(ROOT, EncoderRunOptions(epochs=1, batch_size=8))
        with pytest.raises(NotAllowed):
            search_service.cancel_encoder_run(ALICE)
    finally:
        search_service.cancel_encoder_run(ROOT)
        assert run.wait(120)
    assert run.status == "cancelled"
