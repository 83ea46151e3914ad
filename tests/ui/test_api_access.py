"""Who may call what over the wire: the real app (``build_app`` started by ``launch`` itself, so with its queue
settings) over the 30-item catalog, driven with ``gradio_client`` and, around the client, with the raw queue
protocol a browser speaks. Every refusal is checked twice: the message, and that nothing changed."""

from __future__ import annotations

import html
import json
import socket
import time
import uuid
from typing import Any

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from recsys.accounts.principal import ADMIN, MERCHANT, SYSTEM
from recsys.config import Settings
from recsys.service.catalog import CatalogService
from recsys.service.errors import NotAllowed, NotFound
from recsys.ui import app as ui_app
from recsys.ui import merchant_tab
from recsys.ui.account import caller

API = {
    "/status",
    "/login",
    "/logout",
    "/whoami",
    "/search",
    "/similar",
    "/item",
    "/versions",
    "/add_item",
    "/update_item",
    "/delete_item",
    "/add_review",
    "/start_training",
    "/import_bundle",
    "/activate",
    "/retrain_ranker",
    "/for_you",
    "/item_lists",
    "/cart_complete",
    "/record_event",
}
ALPHA, BRAVO, BOSS = "alpha-shop", "bravo-shop", "api-admin"
PASSWORDS = {ALPHA: "alpha-password", BRAVO: "bravo-password", BOSS: "admin-password"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(url, service, blocks): the app as ``recsys.ui.app.launch`` starts it, on a free local port."""
    from tests.small_catalog import small_search_service_at

    service = small_search_service_at(tmp_path_factory.mktemp("api-access") / "data")
    service.identity.add_user(SYSTEM, ALPHA, MERCHANT, PASSWORDS[ALPHA])
    service.identity.add_user(SYSTEM, BRAVO, MERCHANT, PASSWORDS[BRAVO])
    service.identity.add_user(SYSTEM, BOSS, ADMIN, PASSWORDS[BOSS])
    built: list[gr.Blocks] = []

    def keep(svc):  # launch() builds the app itself; keep a handle to close it
        built.append(real_build(svc))
        return built[-1]

    real_build, pixels = ui_app.build_app, Image.MAX_IMAGE_PIXELS
    port = free_port()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves 127.0.0.1
        mp.setattr(ui_app, "build_app", keep)
        try:
            ui_app.launch(service, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
            yield f"http://127.0.0.1:{port}/", service, built[0]
        finally:
            for blocks in built:
                blocks.close()
            service.engine.wait_idle()
            service.close()
            Image.MAX_IMAGE_PIXELS = pixels  # launch() set it for the whole process


@pytest.fixture(scope="module")
def client(served):
    client = Client(served[0], verbose=False, analytics_enabled=False)
    yield client
    client.close()


@pytest.fixture(scope="module")
def tokens(client):
    return {name: client.predict(name, PASSWORDS[name], api_name="/login")["token"] for name in PASSWORDS}


def refusal(client: Client, *args: Any, api_name: str) -> str:
    """The message of a call that must fail (gradio_client raises AppError with the server's gr.Error text)."""
    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api_name)
    return str(info.value)


def snapshot(client: Client, service, item_id: int) -> tuple:
    """What a refused call must leave as it was: catalog counts, the item, the versions, the ranker job."""
    item = service.get_item(item_id)
    return (
        service.stats(),
        (item.title, item.merchant, len(item.reviews), len(item.images)),
        json.dumps(client.predict(api_name="/versions"), sort_keys=True),
        service.ranker_job,
    )


def item_of(client: Client, token: str, title: str) -> dict:
    return client.predict(token, {"title": title, "category": "Apparel > Tops", "price": 20}, [], api_name="/add_item")


# --- a. the public surface -----------------------------------------------------------------------


def test_served_with_the_queue_settings_of_launch(served):
    _, service, blocks = served
    settings = service.settings
    assert (blocks._queue.max_size, blocks._queue.default_concurrency_limit) == (
        settings.queue_max_size,
        settings.serving_concurrency,
    )
    # Gradio's unused monitoring summary is not recomputed after every event (a pandas pass over up to 10,000 events)
    assert blocks._queue.ANAYLTICS_CACHE_FREQUENCY >= 1000


def test_api_lists_exactly_the_named_endpoints(client):
    info = client.view_api(return_format="dict", print_info=False)
    assert set(info["named_endpoints"]) == API
    assert info["unnamed_endpoints"] == {}
    assert not any(name.startswith("/lambda") for name in info["named_endpoints"])


def test_client_refuses_every_private_ui_event(client):
    private = [d for d in client.config["dependencies"] if d.get("api_visibility") == "private"]
    names = {d.get("api_name") for d in private}
    # The tabs' events are there (the browser needs them), every one that reads or changes the catalog private.
    assert {"on_sign_in", "on_save", "on_import", "on_save_edit", "on_delete", "on_start", "on_activate"} <= names
    assert "on_retrain" in names and len(private) > 30
    for dependency in private:
        with pytest.raises(ValueError, match="Invalid function index"):
            client.predict(fn_index=dependency["id"])
        if dependency.get("api_name"):
            with pytest.raises(ValueError, match="Cannot find a function"):
                client.predict(api_name="/" + dependency["api_name"])


def test_only_the_named_endpoints_are_callable(client):
    named = {name.lstrip("/") for name in API}
    callable_ = {d.get("api_name") for d in client.config["dependencies"] if d.get("api_visibility") != "private"}
    assert callable_ == named


def raw_call(url: str, fn_index: int, data: list, session_hash: str, timeout_s: float = 30) -> dict:
    """One event through the queue protocol, as the browser sends it (gradio_client refuses private events)."""
    with httpx.Client(base_url=url, timeout=timeout_s) as http:
        joined = http.post(
            "gradio_api/queue/join",
            json={"data": data, "fn_index": fn_index, "session_hash": session_hash, "event_data": None},
        )
        joined.raise_for_status()
        deadline = time.monotonic() + timeout_s
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session_hash}) as stream:
            for line in stream.iter_lines():
                if time.monotonic() > deadline:
                    break
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError(f"no answer to event {fn_index} in {timeout_s} s")


def test_a_private_ui_event_sent_around_the_client_acts_as_its_session(served, client, tokens):
    """Private only hides an event from clients: the browser's protocol still reaches it. What keeps it safe is
    that the tab's token is server-side session state (a token in the payload is ignored), so an outsider's
    call acts as a guest and the service refuses the change; signed in through the tab's own event, it saves."""
    url, service, _ = served
    events = {d.get("api_name"): d["id"] for d in client.config["dependencies"]}
    before = service.stats()
    reviews = {"headers": merchant_tab.REVIEW_COLUMNS, "data": [[None, "", ""]], "metadata": None}
    data = [tokens[ALPHA], "Smuggled tee", "", 10, "Apparel > Tops", "", None, reviews]
    session = uuid.uuid4().hex
    message = raw_call(url, events["on_save"], data, session)
    assert message["success"], message
    status = html.unescape(message["output"]["data"][0])  # the tab escapes what it echoes
    assert "Nothing was saved" in status and "not allowed: sign in" in status
    assert service.stats() == before and not service.browse(text="Smuggled").items

    signed_in = raw_call(url, events["on_sign_in"], [ALPHA, PASSWORDS[ALPHA]], session)
    assert signed_in["output"]["data"][0] is None  # the tab's token stays on the server
    assert f"Signed in as **{ALPHA}**" in html.unescape(signed_in["output"]["data"][1]), signed_in
    saved = raw_call(url, events["on_save"], data, session)
    assert "Saved item" in saved["output"]["data"][0], saved
    assert [i.merchant for i in service.browse(text="Smuggled").items] == [ALPHA]


# --- b. anonymous callers --------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "forged-token-0123456789"])
def test_anonymous_callers_change_nothing(served, client, tokens, token):
    _, service, _ = served
    item_id = item_of(client, tokens[BRAVO], f"Bravo anon target {token[:6]}")["id"]
    before = snapshot(client, service, item_id)
    csv = "id,title\nanon-1,Anonymous import\n"
    calls = {
        "/add_item": (token, {"title": "Anonymous item"}, []),
        "/update_item": (token, item_id, {"title": "Anonymous edit"}, [], []),
        "/delete_item": (token, item_id),
        "/add_review": (token, item_id, 1, "anon", "anonymous review"),
        "/import_bundle": (token, csv, "catalog.csv", None, "default", ""),
        "/start_training": (token, {"epochs": 1}),
        "/activate": (token, "v1"),
        "/retrain_ranker": (token,),
    }
    for api_name, args in calls.items():
        message = refusal(client, *args, api_name=api_name)
        assert "not allowed: sign in" in message, (api_name, message)
    assert snapshot(client, service, item_id) == before
    assert service.ranker_job is None


# --- c. one merchant against another --------------------------------------------------------------


def test_a_merchant_cannot_touch_another_merchants_item(served, client, tokens):
    _, service, _ = served
    alpha, bravo = tokens[ALPHA], tokens[BRAVO]
    theirs = client.predict(
        bravo, {"external_id": "bravo-7", "title": "Bravo linen dress", "price": 49}, [], api_name="/add_item"
    )
    ours = item_of(client, alpha, "Alpha wool scarf")
    before = snapshot(client, service, theirs["id"])
    messages = [
        refusal(client, alpha, theirs["id"], {"title": "Alpha took it"}, [], [], api_name="/update_item"),
        refusal(client, alpha, str(theirs["id"]), {"title": "Alpha took it"}, [], [], api_name="/update_item"),
        refusal(client, alpha, theirs["id"], {"merchant": ALPHA}, [], [], api_name="/update_item"),
        refusal(client, alpha, theirs["id"], {}, [], [], api_name="/update_item"),
        refusal(client, alpha, theirs["id"], api_name="/delete_item"),
        refusal(client, alpha, str(theirs["id"]), api_name="/delete_item"),
        # Moving one's own item to the other merchant, or taking their id, is refused too.
        refusal(client, alpha, ours["id"], {"merchant": BRAVO}, [], [], api_name="/update_item"),
        refusal(client, alpha, ours["id"], {"external_id": "bravo-7"}, [], [], api_name="/update_item"),
        refusal(client, alpha, {"title": "Filed elsewhere", "merchant": BRAVO}, [], api_name="/add_item"),
    ]
    for message in messages:
        assert "not allowed" in message or "invalid input" in message, message
        assert BRAVO not in message, message  # a refusal never says whose an item is
    assert snapshot(client, service, theirs["id"]) == before
    assert service.get_item(ours["id"]).merchant == ALPHA

    # The same external id in the merchant's own upload is the merchant's own item; theirs stays as it was.
    report = client.predict(alpha, "id,title\nbravo-7,Alpha's own dress\n", "catalog.csv", api_name="/import_bundle")
    assert (report["added"], report["updated"], report["refused"]) == (1, 0, ""), report
    assert BRAVO not in json.dumps(report)
    assert service.get_item(theirs["id"]).title == "Bravo linen dress"
    mine = service.browse(merchant=ALPHA, text="Alpha's own dress").items
    assert [(i.external_id, i.merchant) for i in mine] == [("bravo-7", ALPHA)]
    again = client.predict(alpha, "id,title\nbravo-7,Alpha's dress renamed\n", "catalog.csv", api_name="/import_bundle")
    assert (again["added"], again["updated"]) == (0, 1), again
    assert service.get_item(theirs["id"]).title == "Bravo linen dress"


def test_one_review_per_account_and_item(served, client, tokens):
    _, service, _ = served
    item_id = item_of(client, tokens[BRAVO], "Bravo reviewed belt")["id"]
    reviewed = client.predict(tokens[ALPHA], item_id, 4, "Nice", "Sturdy buckle", api_name="/add_review")
    assert len(reviewed["reviews"]) == 1
    message = refusal(client, tokens[ALPHA], item_id, 1, "Again", "Second try", api_name="/add_review")
    assert "not allowed" in message and "already reviewed" in message and BRAVO not in message
    assert len(service.get_item(item_id).reviews) == 1


def test_an_admin_may_edit_and_delete_any_merchants_item(served, client, tokens):
    _, service, _ = served
    item_id = item_of(client, tokens[BRAVO], "Bravo boots")["id"]
    edited = client.predict(tokens[BOSS], item_id, {"title": "Bravo boots (fixed by admin)"}, api_name="/update_item")
    assert edited["title"] == "Bravo boots (fixed by admin)" and edited["merchant"] == BRAVO
    assert client.predict(tokens[BOSS], item_id, api_name="/delete_item") == {"deleted": item_id}
    with pytest.raises(NotFound):
        service.get_item(item_id)


# --- d. sign-in ------------------------------------------------------------------------------------


def test_sign_in_refusals_do_not_say_which_part_was_wrong(client):
    wrong_password = refusal(client, ALPHA, "not-her-password", api_name="/login")
    unknown_name = refusal(client, "nobody-here", "not-her-password", api_name="/login")
    assert "not allowed" in wrong_password
    assert wrong_password == unknown_name


def test_a_token_works_until_logout(served, client):
    _, service, _ = served
    token = client.predict(ALPHA, PASSWORDS[ALPHA], api_name="/login")["token"]
    assert client.predict(token, api_name="/whoami") == {"name": ALPHA, "role": MERCHANT}
    assert item_of(client, token, "Alpha signed-in hat")["merchant"] == ALPHA
    assert client.predict(token, api_name="/logout") == {"signed_out": True}
    assert client.predict(token, api_name="/whoami") == {"name": None, "role": "shopper"}
    before = service.stats()
    assert "not allowed: sign in" in refusal(client, token, {"title": "After logout"}, [], api_name="/add_item")
    assert service.stats() == before


# --- e. shoppers -----------------------------------------------------------------------------------


def test_search_answers_anonymously_with_both_ids(served, client):
    _, service, _ = served
    hits = client.predict("red cotton shirt", 5, api_name="/search")["hits"]
    assert hits and hits[0]["title"] == "Red cotton shirt"
    for hit in hits:
        assert hit["external_id"] == service.get_item(hit["item_id"]).external_id


# --- Hugging Face sign-in ----------------------------------------------------------------------------


def hf_profile(username: str) -> gr.OAuthProfile:
    return gr.OAuthProfile(
        {
            "name": username.title(),
            "preferred_username": username,
            "profile": f"https://huggingface.co/{username}",
            "picture": "",
        }
    )


def test_hugging_face_users_are_merchants_or_listed_admins(tmp_path):
    settings = Settings.from_env({"data_dir": tmp_path / "data", "demo_limit": 0, "admins": "hf-boss"}, environ={})
    service = CatalogService(settings)
    try:
        maker, boss = caller(service, "", hf_profile("hf-maker")), caller(service, "", hf_profile("hf-boss"))
        assert (maker.name, maker.role) == ("hf-maker", MERCHANT)
        assert (boss.name, boss.role) == ("hf-boss", ADMIN)
        assert not caller(service, "", None).signed_in
        message, item_id = merchant_tab.create_item(
            service, maker, "HF linen shirt", "", 30, "Apparel > Shirts", "", [], None
        )
        assert "Saved item" in message and item_id is not None
        assert service.get_item(item_id).merchant == "hf-maker"
        refused, none = merchant_tab.create_item(
            service, caller(service, "", None), "Guest shirt", "", 30, "", "", [], None
        )
        assert "not allowed" in refused and none is None
        assert service.stats()["items"] == 1
    finally:
        service.close()


@pytest.mark.parametrize("owner", ["demo", "default"])
def test_a_hugging_face_name_never_takes_a_built_in_owners_items(tmp_path, owner):
    service = CatalogService(Settings.from_env({"data_dir": tmp_path / "data", "demo_limit": 0}, environ={}))
    try:
        item = service.add_item(SYSTEM, {"title": "Seeded tee"}, merchant=owner)
        with pytest.raises(NotAllowed):
            service.update_item(caller(service, "", hf_profile(owner)), item.id, {"title": "Taken over"})
        assert service.get_item(item.id).title == "Seeded tee"
    finally:
        service.close()
