"""The multilingual query route in recall: a non-English query's USE vector, projected into the joint image space
by the serving version's multilingual head, as one more dense ranking in the text part's RRF.

MiniLM reads Chinese poorly and the lexicon only knows fashion words, so a Chinese word outside it ("真丝", silk)
had nothing dense behind it. When the serving encoder version has a fitted head (``multilingual_query.load_route``)
and the query is non-English (``is_non_english``), the route's joint row searches the fused index with an empty
text part (as a photo query does: items ranked by the joint score alone, the mean of their image and text_clip
vectors), and that ranking joins the text rankings (fused vector, BM25) in recall's RRF with weight
``Settings.multilingual_route_weight``. With ``Settings.multilingual_route_features`` the same row is also the
query's text_clip row for the ranker's similarity columns (``cos_text_image``, ...), where MiniLM's row of a Chinese
text is noise: without it the ranker cannot see what the route found. English queries and versions without a head
are served exactly as before.

``MultilingualRoutes`` holds the loaded route per encoder version: loaded once (at switch time by the engine, or
on the first non-English query), kept for the last few versions like the engine's encoders, and forgotten when a
head is (re)fitted so the next query loads the new one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from recsys.config import Settings
from recsys.encoders import MultimodalEncoder
from recsys.encoders.fusion import fuse
from recsys.encoders.multilingual_query import MultilingualQueryRoute, is_non_english, load_route

log = logging.getLogger(__name__)
KEPT_VERSIONS = 3  # as the engine's KEPT_ENCODERS: a search that read an older state still finds its route

Loader = Callable[[Settings, str], MultilingualQueryRoute | None]


@dataclass(frozen=True)
class MultilingualRecall:
    """The route of the encoder a state was built with, and its weight in the text part's RRF."""

    route: MultilingualQueryRoute
    weight: float
    features: bool = False  # also the query's text_clip row for the ranker's similarities (text_image, ...)

    def joint_row(self, text: str) -> np.ndarray | None:
        """[1, joint dim] row of a non-English ``text``; None when it is English or empty or the weight is 0."""
        if self.weight <= 0 or not text or not is_non_english(text):
            return None
        return self.route.joint_vector(text)

    @staticmethod
    def fused_row(encoder: MultimodalEncoder, joint: np.ndarray) -> np.ndarray:
        """[1, fused dim] query for the fused index: the joint row and a zero MiniLM part (as a photo query)."""
        return fuse(joint, np.zeros((1, encoder.text.dim), np.float32), encoder.weights)


class MultilingualRoutes:
    """``get(encoder)``: the multilingual route for that encoder's version, loaded once; None when no head fits it."""

    def __init__(self, settings: Settings, loader: Loader | None = None) -> None:
        self.settings = settings
        self._loader: Loader = loader or load_route
        self._routes: dict[str, MultilingualQueryRoute | None] = {}  # encoder.version -> route (None: no head)
        self._lock = threading.Lock()
        self.loads = 0  # how many times a route was looked for on disk (tests: once per version)

    def get(self, encoder: MultimodalEncoder) -> MultilingualQueryRoute | None:
        routes = self._routes  # one read: a concurrent load publishes a new dict
        if encoder.version in routes:
            return routes[encoder.version]
        with self._lock:
            if encoder.version not in self._routes:
                route = self._load(encoder)
                older = [v for v in self._routes if v != encoder.version][-(KEPT_VERSIONS - 1) :]
                self._routes = {**{v: self._routes[v] for v in older}, encoder.version: route}
            return self._routes[encoder.version]

    def recall_for(self, encoder: MultimodalEncoder, text: str | None) -> MultilingualRecall | None:
        """What recall needs for this query: None for English text (nothing is loaded), no head, or weight 0."""
        weight = self.settings.multilingual_route_weight
        if weight <= 0 or not text or not is_non_english(text):
            return None
        route = self.get(encoder)
        features = self.settings.multilingual_route_features
        return MultilingualRecall(route, weight, features) if route is not None else None

    def forget(self, version: str | None = None) -> None:
        """Drop the loaded route of ``encoder.version`` ``version`` (all when None): the next query loads it again
        (after a head was fitted or refitted)."""
        with self._lock:
            self._routes = {} if version is None else {v: r for v, r in self._routes.items() if v != version}

    def _load(self, encoder: MultimodalEncoder) -> MultilingualQueryRoute | None:
        self.loads += 1
        joint_version = encoder.joint.version  # a head is fitted to a registry version (untrained heads have none)
        try:
            route = self._loader(self.settings, joint_version)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:  # a bad name, a broken or foreign head
            log.warning("multilingual route for %s not loaded: %s", joint_version, exc)
            return None
        if route is not None and route.head.config.embed_dim != encoder.joint.dim:
            log.warning(
                "multilingual head for %s is %d-d, the joint space %d-d: not served",
                joint_version,
                route.head.config.embed_dim,
                encoder.joint.dim,
            )
            return None
        if route is not None:
            log.info("multilingual query route served for %s (%s)", joint_version, route.encoder.model_name)
        return route
