"""Builds the Gradio Blocks app from one tab module each; the service is created once at start-up."""

from __future__ import annotations

import logging

import gradio as gr
from PIL import Image

from recsys.config import Settings
from recsys.service.taillift import TailLiftService
from recsys.ui import account, api, catalog_tab, merchant_tab, search_tab, training_tab
from recsys.ui.evaluation import build_evaluation_tab

log = logging.getLogger(__name__)

INTRO = (
    "# TailLift\n"
    "Multimodal e-commerce search and recommendation that lifts the long tail: the many items with few clicks, "
    "sales or reviews."
)


def create_service(settings: Settings) -> TailLiftService:
    """Open the catalog, seed the demo on first start, load the models and build the index: once, at start-up."""
    service = TailLiftService(settings)
    service.start()
    return service


def build_app(service: TailLiftService) -> gr.Blocks:
    with gr.Blocks(title="TailLift") as demo:
        gr.Markdown(INTRO)
        token = gr.State("")  # this browser tab's login token (server-side session state, never a cookie)
        account.build(demo, service, token)
        with gr.Tab("Search"):
            search_tab.build(demo, service)
        with gr.Tab("Catalog"):
            catalog_tab.build(demo, service)
        with gr.Tab("Merchant"):
            merchant_tab.build(demo, service, token)
        with gr.Tab("Evaluation"):
            build_evaluation_tab(service.settings)
        with gr.Tab("Training"):
            training_tab.build(demo, service, token)
        api.register(service)  # the scripted API: named JSON endpoints (README: API)
    return demo


def launch(service: TailLiftService, **kwargs) -> None:
    settings = service.settings
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
        **kwargs,
    )
