"""Route names, and per-route query-item similarities for the ranker.

A route is one kind of vector an item or query carries. Item routes hold one row per item; a row is all zeros
when the item lacks that content (no image, no reviews), so its similarities on that route are exactly 0.
"""

from __future__ import annotations

import numpy as np

IMAGE = "image"  # joint space: mean of the item's image vectors (query: the query image)
TEXT_CLIP = "text_clip"  # joint space: title + category + visual attributes
TEXT_BERT = "text_bert"  # MiniLM: title + category + attributes + description
REVIEWS_BERT = "reviews_bert"  # MiniLM: the item's reviews
FUSED = "fused"  # the one vector FAISS indexes (items) and searches with (queries)

ITEM_ROUTES = (IMAGE, TEXT_CLIP, TEXT_BERT, REVIEWS_BERT, FUSED)

# similarity name -> (query route, item route); the ranker gets one score per pair that both sides have.
SIMILARITY_PAIRS: dict[str, tuple[str, str]] = {
    "text_image": (TEXT_CLIP, IMAGE),  # cross-modal: query words vs item photos
    "text_text_clip": (TEXT_CLIP, TEXT_CLIP),
    "text_bert": (TEXT_BERT, TEXT_BERT),
    "text_reviews": (TEXT_BERT, REVIEWS_BERT),
    "image_image": (IMAGE, IMAGE),
    "image_text": (IMAGE, TEXT_CLIP),
    "fused": (FUSED, FUSED),
}


def route_similarities(
    query_routes: dict[str, np.ndarray], item_routes: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Cosine similarity of the query to each item, per route pair: name -> float32 [n_items].

    ``query_routes`` is ``encode_query`` output ([1, d] rows); ``item_routes`` is ``encode_items`` output (or rows
    read back from storage). Pairs missing on either side are left out, so a text-only query yields no image_*.
    """
    sims: dict[str, np.ndarray] = {}
    for name, (q_route, i_route) in SIMILARITY_PAIRS.items():
        if q_route in query_routes and i_route in item_routes:
            query = np.asarray(query_routes[q_route], dtype=np.float32).reshape(-1)
            sims[name] = np.asarray(item_routes[i_route], dtype=np.float32) @ query
    return sims
