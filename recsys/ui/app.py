"""Builds the Gradio Blocks app from one tab module each; the service is created once at start-up."""

from __future__ import annotations

import logging
import os
from typing import Any

import gradio as gr
from PIL import Image

from recsys.config import Settings
from recsys.service.taillift import TailLiftService
from recsys.ui import account, api, catalog_tab, merchant_tab, search_tab, training_tab
from recsys.ui.evaluation import build_evaluation_tab
from recsys.ui.i18n import t, translations

log = logging.getLogger(__name__)

# Gradio summarises its recent events (up to 10,000) in a pandas frame after every event, for a monitoring page this
# app leaves off: ~3 ms of held GIL a request at 400 events, ~8 ms at 10,000 (docs/search.md, "The API path"). Once
# per 10,000 events instead; read when the Blocks' queue is made, so set before any is.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "10000")

INTRO = (
    "# TailLift\n"
    "Multimodal e-commerce search and recommendation that lifts the long tail: the many items with few clicks, "
    "sales or reviews."
)


def create_service(settings: Settings) -> TailLiftService:
    """Open the catalog and start it up in the background (seed the demo on a first start, load the models, build
    the index): the page is served at once and says how far the start got."""
    service = TailLiftService(settings)
    service.start_in_background()
    return service


def startup_banner(service: TailLiftService) -> tuple[Any, Any]:
    """(banner update, timer update): the start-up line until the service is ready, then hidden and stopped."""
    status = service.startup
    if status.ready:
        return gr.update(value="", visible=False), gr.Timer(active=False)
    text = status.line() if status.error is None else f"Start-up failed: {status.error} · browsing still works"
    return gr.update(value=text, visible=True), gr.Timer(active=True)


def build_app(service: TailLiftService) -> gr.Blocks:
    # Uploads are kept an hour, then swept: anonymous clients cannot fill the disk with files nobody imports.
    with gr.Blocks(title="TailLift", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(t(INTRO))
        token = gr.State("")  # this browser tab's login token (server-side session state, never a cookie)
        banner = gr.Markdown(service.startup.line(), visible=not service.startup.ready, elem_id="startup-banner")
        ticker = gr.Timer(2.0, active=not service.startup.ready)
        ticker.tick(lambda: startup_banner(service), None, [banner, ticker], api_visibility="private")
        demo.load(lambda: startup_banner(service), None, [banner, ticker], api_visibility="private")
        account.build(demo, service, token)
        with gr.Tab(t("Search")):
            search_tab.build(demo, service, token)
        with gr.Tab(t("Catalog")):
            catalog_tab.build(demo, service)
        with gr.Tab(t("Merchant")):
            merchant_tab.build(demo, service, token)
        with gr.Tab(t("Evaluation")):
            build_evaluation_tab(service.settings)
        with gr.Tab(t("Training")):
            training_tab.build(demo, service, token)
        api.register(service)  # the scripted API: named JSON endpoints (README: API)
    return demo


def launch(service: TailLiftService, **kwargs) -> None:
    settings = service.settings
    if settings.hf_oauth and not (os.environ.get("SPACE_ID") and os.environ.get("OAUTH_CLIENT_SECRET")):
        # Off a Space, Gradio mocks the Hugging Face sign-in (every visitor becomes the host's HF account) and signs
        # its session cookies with a public key: anyone could claim any name, an admin's too.
        raise SystemExit("RECSYS_HF_OAUTH needs a Hugging Face Space with hf_oauth: true; use local accounts here")
    # Pillow's own bomb guard for every image decoded in this process (shoppers' query photos included).
    Image.MAX_IMAGE_PIXELS = settings.max_image_pixels
    # Searches, browsing and item views run side by side; heavy events name their own one-at-a-time queues.
    queued = build_app(service).queue(
        default_concurrency_limit=settings.serving_concurrency, max_size=settings.queue_max_size
    )
    queued.launch(
        max_file_size=max(settings.max_zip_bytes, settings.max_catalog_bytes, settings.max_upload_bytes),
        server_name=kwargs.pop("server_name", settings.host),
        server_port=kwargs.pop("server_port", settings.port),
        allowed_paths=[str(settings.image_dir)],  # product photos live in the data dir
        i18n=translations(),  # the page's words in English or Chinese (recsys/ui/i18n.py)
        **kwargs,
    )
