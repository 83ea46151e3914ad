"""Saved opinion models: ``models_dir/opinions/<version>/``, written atomically and never overwritten.

Kept apart from the encoder versions (whose folders sit directly under ``models_dir``) so the encoder commands
never list them. The newest version trained on the current aspect list and text model is the one served.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from recsys.opinions.aspects import Aspect, aspects_fingerprint
from recsys.opinions.model import OpinionModel

FOLDER = "opinions"


def save_model(models_dir: Path, model: OpinionModel) -> Path:
    root = Path(models_dir) / FOLDER
    root.mkdir(parents=True, exist_ok=True)
    version = f"opinions-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S-%f')}-{model.aspects_fingerprint[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        model.save(tmp)
        os.replace(tmp, root / version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root / version


def load_current(models_dir: Path, aspects: tuple[Aspect, ...], model_name: str) -> OpinionModel | None:
    """The newest saved model for this aspect list and text model, or None."""
    root = Path(models_dir) / FOLDER
    if not root.exists():
        return None
    wanted = aspects_fingerprint(aspects)
    for folder in sorted((p for p in root.iterdir() if p.name.startswith("opinions-")), reverse=True):
        try:
            model = OpinionModel.load(folder)
        except (OSError, ValueError, KeyError):
            continue  # a damaged or older-format version is skipped, not served
        if model.aspects_fingerprint == wanted and model.model_name == model_name:
            return model
    return None
