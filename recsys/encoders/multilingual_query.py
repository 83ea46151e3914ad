"""Serving piece: a non-English query's vector in the joint space, through the multilingual head.

``MultilingualQueryRoute.joint_vector(text)`` returns the [1, embed_dim] unit row that search would use as the
query's ``text_clip`` route (in place of MiniLM + the version's text head) when ``is_non_english(text)``; for
English text it returns None and the MiniLM route stays as it is (the English figures must not drop).
``load_route(settings, joint_version)`` builds it from the stored head, or None when no head was fitted for the
active version and the configured ``multilingual_text_model``.
"""

from __future__ import annotations

import re

import numpy as np

from recsys.config import Settings
from recsys.encoders.multilingual import MultilingualTextEncoder
from recsys.encoders.multilingual_head import MultilingualHead
from recsys.encoders.multilingual_head_store import load_head
from recsys.query.script import has_cjk

# Letters of any script but Latin (Basic, Latin-1, Extended A/B): Cyrillic, Greek, Arabic, Thai, Devanagari ...
_NON_LATIN_LETTER = re.compile(r"[^\W\d_\u0000-\u024f]")


def is_non_english(text: str) -> bool:
    """True when the query holds CJK or other non-Latin letters (a Latin-script query is read as English)."""
    return has_cjk(text) or _NON_LATIN_LETTER.search(text) is not None


class MultilingualQueryRoute:
    def __init__(self, encoder: MultilingualTextEncoder, head: MultilingualHead) -> None:
        if encoder.model_name != head.config.text_model or encoder.dim != head.config.in_dim:
            raise ValueError(
                f"the head was fitted on {head.config.text_model} ({head.config.in_dim}-d), "
                f"not {encoder.model_name} ({encoder.dim}-d)"
            )
        self.encoder, self.head = encoder, head

    @property
    def joint_version(self) -> str:
        return self.head.config.joint_version

    def encode(self, text: str) -> np.ndarray:
        """[1, embed_dim] joint-space unit row of ``text``, whatever its language."""
        return self.head.project(self.encoder.encode_queries([text]))

    def joint_vector(self, text: str) -> np.ndarray | None:
        """The joint-space query row for a non-English query; None for English (keep the MiniLM route)."""
        return self.encode(text) if is_non_english(text) else None


def load_route(settings: Settings, joint_version: str, threads: int = 1) -> MultilingualQueryRoute | None:
    """One BLAS thread: a query is a few tokens (5.9 ms either way), and two OpenBLAS threads spin on after the call,
    which made the MiniLM encode that follows 2.2x slower on 2 cores (16.9 -> 36-38 ms)."""
    head = load_head(settings, joint_version, settings.multilingual_text_model)
    if head is None:
        return None
    return MultilingualQueryRoute(MultilingualTextEncoder(settings.multilingual_text_model, threads=threads), head)
