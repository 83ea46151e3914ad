"""The scripted API: named JSON endpoints over the service, for ``gradio_client`` and any HTTP client.

UI events are private (not callable by clients); these are the public surface. Merchant and admin endpoints take
the ``token`` that ``/login`` returns, and the service checks every change against it, so an anonymous or wrong
caller is refused with "not allowed" and nothing changes. Images travel as base64 text (or data URLs).

    from gradio_client import Client
    client = Client("http://127.0.0.1:7860/")
    token = client.predict("alice", "her password", api_name="/login")["token"]
    client.predict(token, {"title": "Red linen dress", "price": 49}, [], api_name="/add_item")
"""

from __future__ import annotations

import base64
import binascii
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
from PIL import Image

from recsys.accounts.principal import Principal
from recsys.catalog.validation import InvalidInput
from recsys.catalog.views import ItemView
from recsys.options import from_values
from recsys.search.filters import SearchFilters
from recsys.search.types import NotReady, SearchRequest, SearchResponse
from recsys.service.errors import NotAllowed, NotFound
from recsys.service.permissions import require
from recsys.service.recommendations import Recommended
from recsys.service.taillift import TailLiftService
from recsys.training.run_options import EncoderRunOptions

T = TypeVar("T")
CATALOG_SUFFIXES = (".csv", ".jsonl", ".ndjson")


def register(service: TailLiftService) -> None:
    """Add the endpoints to the open Blocks (``/search``, ``/add_item``, ...; the README lists them)."""

    def who(token: str, action: str | None = None) -> Principal:
        """The caller; with ``action``, refused at once (before any upload is decoded or written)."""
        principal = service.identity.principal(token=token or None)
        if action is not None:
            _answer(lambda: require(principal, action))
        return principal

    def login(name: str, password: str) -> dict:
        """Sign in with a local account: returns a token for the merchant and admin endpoints."""
        token = _answer(lambda: service.identity.sign_in(name, password))
        principal = service.identity.principal(token=token)
        return {"token": token, "name": principal.name, "role": principal.role}

    def logout(token: str) -> dict:
        service.identity.sign_out(token)
        return {"signed_out": True}

    def status() -> dict:
        """Start-up phase (n of N, when each phase began), what search is served from, the ranker job."""
        return service.status()

    def whoami(token: str = "") -> dict:
        principal = who(token)
        return {"name": principal.name, "role": principal.role}

    def search(
        text: str = "",
        k: int = 20,
        category: list[str] | None = None,
        gender: list[str] | None = None,
        colour: list[str] | None = None,
        min_price: float | None = None,
        max_price: float | None = None,
        image: str | None = None,
    ) -> dict:
        """Hybrid multimodal search; ``image`` is a base64 photo. Hits carry item_id and the merchant's own id."""
        filters = SearchFilters(
            category=tuple(category or ()),
            gender=tuple(gender or ()),
            colour=tuple(colour or ()),
            min_price=min_price,
            max_price=max_price,
        )
        photo = _image(image) if image else None
        request = SearchRequest(text=text or "", image=photo, filters=filters, k=max(1, min(int(k), 100)))
        return _hits(service, _answer(lambda: service.search(request)))

    def similar(item_id: int, k: int = 12) -> dict:
        """More like this item (its multimodal vector as the query)."""
        return _hits(service, _answer(lambda: service.similar(int(item_id), max(1, min(int(k), 100)))))

    def item(item_id: int) -> dict:
        return _item(_answer(lambda: service.get_item(item_id)))

    def add_item(token: str, fields: dict, images: list[str] | None = None) -> dict:
        """A new item of the signed-in merchant (fields as in the bulk format: title, price, category, ...)."""
        actor = who(token, "edit items")
        photos = [_decoded(i, service.settings.max_upload_bytes) for i in images or []]
        return _item(_answer(lambda: service.add_item(actor, fields, photos)))

    def update_item(
        token: str,
        item_id: int,
        fields: dict,
        add_images: list[str] | None = None,
        remove_image_ids: list[int] | None = None,
    ) -> dict:
        actor = who(token, "edit items")
        photos = [_decoded(i, service.settings.max_upload_bytes) for i in add_images or []]
        return _item(_answer(lambda: service.update_item(actor, item_id, fields, photos, remove_image_ids or [])))

    def delete_item(token: str, item_id: int) -> dict:
        _answer(lambda: service.delete_item(who(token), item_id))
        return {"deleted": item_id}

    def add_review(token: str, item_id: int, rating: int, title: str = "", text: str = "") -> dict:
        return _item(_answer(lambda: service.add_review(who(token), item_id, rating, title, text)))

    def import_bundle(
        token: str,
        catalog: str,
        filename: str = "catalog.csv",
        images_zip: str | None = None,
        preset: str = "default",
        mapping: str = "",
    ) -> dict:
        """Bulk import: ``catalog`` is the CSV/JSONL text, ``images_zip`` a base64 zip; returns the row report."""
        actor = who(token, "import")
        settings = service.settings
        suffix = Path(filename or "").suffix.lower()
        if suffix not in CATALOG_SUFFIXES:
            raise gr.Error(f"filename must end in {', '.join(CATALOG_SUFFIXES)}")
        data = (catalog or "").encode("utf-8")
        if len(data) > settings.max_catalog_bytes:
            raise gr.Error(f"catalog is {len(data):,} bytes; the limit is {settings.max_catalog_bytes:,}")
        zipped = _decoded(images_zip, settings.max_zip_bytes) if images_zip else None
        with tempfile.TemporaryDirectory(prefix="taillift-api-") as folder:
            path = Path(folder) / f"catalog{suffix}"
            path.write_bytes(data)
            zip_path = None
            if zipped is not None:
                zip_path = Path(folder) / "images.zip"
                zip_path.write_bytes(zipped)
            report = _answer(
                lambda: service.import_bundle(actor, path, zip_path, preset=preset, mapping_overrides=mapping)
            )
        return report.to_dict()

    def start_training(token: str, options: dict | None = None) -> dict:
        """Start an encoder run (admin): ``options`` are EncoderRunOptions fields by name."""
        actor = who(token, "train encoder")
        try:  # the same coercion and checks as the Training tab's form; no judgments file through the API
            run_options = from_values(EncoderRunOptions, {**(options or {}), "judgments_path": None})
        except (TypeError, ValueError) as exc:
            raise gr.Error(f"invalid options: {exc}") from None
        run = _answer(lambda: service.start_encoder_run(actor, run_options))
        return {"status": run.status, "parent": run.parent}

    def versions() -> list[dict]:
        """Encoder versions, newest first (their options without server paths)."""
        return [
            {**row, "options": {k: v for k, v in (row.get("options") or {}).items() if k != "judgments_path"}}
            for row in service.encoder_versions()
        ]

    def activate(token: str, version: str) -> dict:
        """Serve an encoder version (admin); an older one is a rollback. Returns when it serves."""
        return {"serving": _answer(lambda: service.switch_encoder(who(token), version))}

    def retrain_ranker(token: str) -> dict:
        """Retrain the catalog ranker in the background (admin)."""
        job = _answer(lambda: service.retrain_ranker(who(token)))
        return {"status": job.status, "message": job.message}

    def for_you(session_id: str = "", k: int = 12, token: str = "") -> dict:
        """The shopper's "For you" list (their session's and, with a token, their account's events), with reasons."""
        rows = service.for_you(who(token), session_id or "", max(1, min(int(k), 100)))
        return {"items": _recommended(service, rows)}

    def item_lists(item_id: int, k: int = 8) -> dict:
        """An item's "similar", "bought_together" and "also_viewed" lists, each item with its reason."""
        _answer(lambda: service.get_item(int(item_id)))  # an unknown item is refused, not answered with empty lists
        lists = service.item_lists(int(item_id), max(1, min(int(k), 100)))
        return {name: _recommended(service, rows) for name, rows in lists.items()}

    def cart_complete(item_ids: list[int], k: int = 8) -> dict:
        """The "Complete your basket" list for the cart's item ids."""
        if not isinstance(item_ids, list) or not all(isinstance(i, int) for i in item_ids):
            raise gr.Error("item_ids must be a list of item ids")
        rows = service.complete_basket(item_ids[:100], max(1, min(int(k), 100)))
        return {"items": _recommended(service, rows)}

    def record_event(token: str, session_id: str, item_id: int, event: str, order_id: str = "") -> dict:
        """Log view, click, cart or purchase (with its order id) for the shopper: the token's account, else
        ``session_id`` (the anonymous browser id)."""
        _answer(lambda: service.record(who(token), session_id or "", int(item_id), event, order_id or None))
        return {"recorded": event, "item_id": int(item_id)}

    endpoints: list[Callable[..., Any]] = [status, login, logout, whoami, search, similar, item, versions]
    endpoints += [for_you, item_lists, cart_complete, record_event]
    endpoints += [add_item, update_item, delete_item, add_review, start_training]
    for fn in endpoints:  # the serving queue's concurrency: each is fast (a training run starts a thread)
        gr.api(fn, api_name=fn.__name__)
    gr.api(import_bundle, api_name="import_bundle", concurrency_id="import", concurrency_limit=1)
    gr.api(activate, api_name="activate", concurrency_id="switch", concurrency_limit=1)
    gr.api(retrain_ranker, api_name="retrain_ranker")


def _answer(call: Callable[[], T]) -> T:
    """The service's answer, or its refusal as a ``gr.Error`` (the client sees the message, nothing changed)."""
    try:
        return call()
    except InvalidInput as exc:
        raise gr.Error("invalid input: " + "; ".join(exc.problems)) from None
    except (NotAllowed, NotFound, NotReady, KeyError, ValueError) as exc:
        raise gr.Error(str(exc).strip("'\"")) from None


def _decoded(text: str | None, max_bytes: int) -> bytes:
    """base64 (or a data URL) -> bytes, refused before decoding when it would be over ``max_bytes``."""
    payload = (text or "").split(",", 1)[1] if (text or "").startswith("data:") else (text or "")
    if len(payload) * 3 // 4 > max_bytes:
        raise gr.Error(f"upload is over the {max_bytes:,}-byte limit")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise gr.Error("an upload is not valid base64") from None


def _image(text: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(_decoded(text, 20 * 2**20))) as img:
            return img.convert("RGB")
    except OSError:
        raise gr.Error("the image could not be read") from None


def _item(view: ItemView) -> dict[str, Any]:
    out = view.to_dict()
    out["images"] = [{"id": i.id, "width": i.width, "height": i.height} for i in view.images]  # no server paths
    return out


def _recommended(service: TailLiftService, rows: list[Recommended]) -> list[dict[str, Any]]:
    views = service.get_items([r.item_id for r in rows], with_reviews=False)
    return [
        {
            "item_id": r.item_id,
            "external_id": views[r.item_id].external_id,
            "title": views[r.item_id].title,
            "price": views[r.item_id].price,
            "reason": r.reason,
        }
        for r in rows
        if r.item_id in views  # deleted since the fit
    ]


def _hits(service: TailLiftService, response: SearchResponse) -> dict[str, Any]:
    views = service.get_items([h.item_id for h in response.hits], with_reviews=False)
    hits = []
    for hit in response.hits:
        view = views.get(hit.item_id)
        if view is None:  # deleted since the search read its snapshot
            continue
        hits.append(
            {
                "rank": hit.rank,
                "item_id": hit.item_id,
                "external_id": view.external_id,
                "title": view.title,
                "price": view.price,
                "score": hit.score,
                "explanation": hit.explanation,
                "matched": hit.matched,  # text, photo, both, weak; similar for /similar
            }
        )
    query = response.reading.query
    return {
        "hits": hits,
        "notices": response.reading.notices(),  # e.g. "Showing results for ... (you typed ...)"
        "searched_text": query.searched if query is not None else "",
        "candidates": response.candidates,
        "latency_ms": response.latency_ms,
        "model_version": response.model_version,
        "ranker_version": response.ranker_version,
    }
