"""Encoders: joint (CLIP-space) image/text vectors, MiniLM text vectors, and their fusion into one vector.

Public API: ``create_encoder``, ``MultimodalEncoder``, ``ItemContent``, the route names and ``route_similarities``.
"""

from recsys.encoders.content import ItemContent
from recsys.encoders.factory import create_encoder
from recsys.encoders.fusion import FusionWeights
from recsys.encoders.multimodal import MultimodalEncoder
from recsys.encoders.routes import FUSED, IMAGE, ITEM_ROUTES, REVIEWS_BERT, TEXT_BERT, TEXT_CLIP, route_similarities

__all__ = [
    "create_encoder",
    "MultimodalEncoder",
    "ItemContent",
    "FusionWeights",
    "route_similarities",
    "IMAGE",
    "TEXT_CLIP",
    "TEXT_BERT",
    "REVIEWS_BERT",
    "FUSED",
    "ITEM_ROUTES",
]
