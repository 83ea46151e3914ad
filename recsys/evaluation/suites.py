"""The registry of evaluation suites: name -> module-level ``run(data_dir, train_dir, settings, seed)``."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from recsys.config import Settings
from recsys.evaluation import crowdflower, fashion, instacart, replay, reviews


class Suite(Protocol):
    def __call__(
        self, data_dir: Path | str, train_dir: Path | str | None = None, settings: Settings | None = None, seed: int = 0
    ) -> dict: ...


SUITES: dict[str, Suite] = {
    "crowdflower": crowdflower.run,
    "fashion": fashion.run,
    "instacart": instacart.run,
    "replay": replay.run,
    "reviews": reviews.run,
}


def run_suite(
    name: str,
    data_dir: Path | str,
    train_dir: Path | str | None = None,
    settings: Settings | None = None,
    seed: int = 0,
    **options,
) -> dict:
    """Run one suite; ``options`` (e.g. fashion's ``model`` and ``limit``) go to suites that take them."""
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; known: {', '.join(sorted(SUITES))}")
    return SUITES[name](data_dir, train_dir, settings, seed, **options)
