"""``create_encoder(settings)``: load every model once and return the service's ``MultimodalEncoder``."""

from __future__ import annotations

import hashlib

from recsys.config import Settings
from recsys.encoders.fusion import DEFAULT_WEIGHTS, FusionWeights
from recsys.encoders.multimodal import MultimodalEncoder
from recsys.encoders.openclip_path import load_open_clip_joint
from recsys.encoders.text import TextEncoder, pick_device
from recsys.encoders.tower_path import load_tower_joint


def create_encoder(
    settings: Settings,
    weights: FusionWeights = DEFAULT_WEIGHTS,
    text: TextEncoder | None = None,
    version: str | None = None,
) -> MultimodalEncoder:
    """open_clip when ``settings.clip_model`` is set, else the packaged towers with trained heads: those of
    ``version`` when given (switch, rollback), else of the ACTIVE version.

    With no trained heads yet the encoder still works, with ``encoder.trained == False``. Pass ``text`` to share
    an already loaded MiniLM (it must be ``settings.text_model``).
    """
    if version is not None and settings.clip_model:
        raise ValueError("settings.clip_model is set: the open_clip path has no trained versions to load")
    device = pick_device(settings.device)
    if text is None or text.model_name != settings.text_model:
        text = TextEncoder(
            settings.text_model, str(device), settings.encode_batch_size, query_precision=settings.query_precision
        )
    joint = (
        load_open_clip_joint(settings, device)
        if settings.clip_model
        else load_tower_joint(settings, text, device, version)
    )
    # The stored vectors depend on the joint model, the MiniLM model and the fusion weights: all go in the key.
    extra = hashlib.sha256(f"{settings.text_model}|{weights.joint}|{weights.text}".encode()).hexdigest()[:8]
    return MultimodalEncoder(joint, text, version=f"{joint.version}.{extra}", weights=weights)
