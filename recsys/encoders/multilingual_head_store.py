"""Saving and loading multilingual heads, one per (joint model version, multilingual text model).

Layout: ``models_dir/multilingual-heads/<joint version>/<text model slug>/`` holding ``head.pt`` (state dict)
and ``config.json`` (``MultilingualHeadConfig`` plus the fit metrics). A head is only valid against the image
vectors of the version it was fitted on, so it lives under that version's name; the folder sits beside the
version folders but has no config.json of its own, so ``registry.list_versions`` never lists it. A folder is
written in a temp folder and moved into place with one ``os.replace`` (as the registry does): readers see a
whole head or none.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from recsys import registry
from recsys.config import Settings
from recsys.encoders.multilingual_head import MultilingualHead, MultilingualHeadConfig
from recsys.encoders.openclip_path import slug

HEADS_DIR = "multilingual-heads"
WEIGHTS_FILE = "head.pt"
CONFIG_FILE = "config.json"


def head_dir(settings: Settings, joint_version: str, text_model: str) -> Path:
    registry.version_dir(settings, joint_version)  # the same name check as a version folder
    return settings.models_dir / HEADS_DIR / joint_version / slug(text_model)


def write_head(folder: Path, head: MultilingualHead, metrics: dict | None = None) -> Path:
    """Write ``head`` as ``folder`` (replacing an older head there); returns ``folder``."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        torch.save({k: v.detach().cpu() for k, v in head.state_dict().items()}, tmp / WEIGHTS_FILE)
        config = {"head": head.config.to_dict(), "metrics": metrics or {}}
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=1))
        if folder.exists():  # a refit of the same pair: keep the newest
            old = folder.with_name(f".{folder.name}-old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def read_head(folder: Path) -> MultilingualHead:
    if not (folder / CONFIG_FILE).exists():
        raise FileNotFoundError(f"no multilingual head in {folder} (train one: benchmarks/bench_multilingual_head.py)")
    config = MultilingualHeadConfig.from_dict(json.loads((folder / CONFIG_FILE).read_text())["head"])
    head = MultilingualHead(config)
    head.load_state_dict(torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True))
    return head.eval()


def save_head(settings: Settings, head: MultilingualHead, metrics: dict | None = None) -> Path:
    return write_head(head_dir(settings, head.config.joint_version, head.config.text_model), head, metrics)


def load_head(settings: Settings, joint_version: str, text_model: str) -> MultilingualHead | None:
    """The head fitted for this pair, or None when none was trained (the caller keeps the MiniLM route)."""
    folder = head_dir(settings, joint_version, text_model)
    return read_head(folder) if (folder / CONFIG_FILE).exists() else None
