"""The registry of evaluation suites: name -> module-level ``run(data_dir, train_dir, settings, seed)``.

A suite that needs parts not yet written (fashion) joins the registry as soon as its module imports.
"""
from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Protocol

from recsys.config import Settings
from recsys.evaluation import crowdflower, instacart, reviews

log = logging.getLogger(__name__)


class Suite(Protocol):
    def __call__(self, data_dir: Path | str, train_dir: Path | str | None = None,
                 settings: Settings | None = None, seed: int = 0) -> dict: ...


SUITES: dict[str, Suite] = {
    "crowdflower": crowdflower.run,
    "instacart": instacart.run,
    "reviews": reviews.run,
}

try:  # optional: written by another part of the project, encoder-dependent
    SUITES["fashion"] = importlib.import_module("recsys.evaluation.fashion").run
except ImportError as exc:
    log.debug("fashion suite not available: %s", exc)


def run_suite(name: str, data_dir: Path | str, train_dir: Path | str | None = None,
              settings: Settings | None = None, seed: int = 0, **options) -> dict:
    """Run one suite; ``options`` (e.g. fashion's ``model`` and ``limit``) go to suites that take them."""
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; known: {', '.join(sorted(SUITES))}")
    return SUITES[name](data_dir, train_dir, settings, seed, **options)
