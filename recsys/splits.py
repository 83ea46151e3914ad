"""Deterministic train/held-out splits shared by training and evaluation.

A key (an item id, a query, a user) is held out when a salted hash of it falls under the fraction, so the same
key lands on the same side on every machine and every run, and nothing evaluated is ever trained on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TypeVar

SALT = "taillift-holdout-v1"
HOLDOUT_FRACTION = 0.2

K = TypeVar("K")


def holdout_score(key: object, salt: str = SALT) -> float:
    digest = hashlib.sha1(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_holdout(key: object, fraction: float = HOLDOUT_FRACTION, salt: str = SALT) -> bool:
    return holdout_score(key, salt) < fraction


def split_keys(keys: Iterable[K], fraction: float = HOLDOUT_FRACTION, salt: str = SALT) -> tuple[list[K], list[K]]:
    """(train_keys, holdout_keys), each in input order."""
    train: list[K] = []
    held: list[K] = []
    for key in keys:
        (held if is_holdout(key, fraction, salt) else train).append(key)
    return train, held
