"""Served-model versions on disk: ``<root>/<version>/`` with the arrays (``storage``'s atomic npz + json) and a
``version.json`` written last (version, parent, data fingerprint, counts, fit seconds).

A version folder without ``version.json`` is an interrupted save and is never listed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recsys.recommend.allocation import Swap
from recsys.recommend.base import Recommender
from recsys.recommend.basket_ranker import BasketRanker
from recsys.recommend.hypergraph import HypergraphRecommender
from recsys.recommend.item_attributes import ItemAttributes
from recsys.recommend.served import EventRow, ItemRow, ServedModel
from recsys.recommend.storage import load_artifact, save_artifact
from recsys.recommend.text_column import TextColumn

BACKENDS = ("personal", "bought", "viewed")
VERSION_FILE = "version.json"
REGISTRY_KIND = "recommender"  # recommender versions in the model registry, beside the encoders' versions
RANKER_FILE = "ranker.json"
ALLOCATION_FILE = "allocation.json"


def fingerprint(items: Sequence[ItemRow], events: Sequence[EventRow]) -> str:
    """sha256 over the items' ids and attributes and every event: the same data gives the same fingerprint."""
    digest = hashlib.sha256()
    for item in sorted(items, key=lambda r: r.item_id):
        digest.update(
            repr((item.item_id, item.title, item.category, item.brand, sorted(item.attributes.items()))).encode()
        )
    for event in events:
        digest.update(repr((event.shopper, event.session_id, event.item_id, event.event, event.order_id)).encode())
    return digest.hexdigest()


def save_served(root: Path, model: ServedModel, meta: dict) -> Path:
    folder = root / meta["version"]
    folder.mkdir(parents=True, exist_ok=True)
    for name in BACKENDS:
        getattr(model, name).save(folder / name)
    shoppers = sorted(model.shoppers, key=model.shoppers.__getitem__)
    arrays = {
        "item_ids": model.item_ids,
        "shoppers": np.array(shoppers, dtype=str),
        "interactions": model.interactions,
        "co_bought": model.co_bought,
        "co_viewed": model.co_viewed,
        **model.attributes.state(),
        **model.titles.state("titles"),
    }
    save_artifact(folder / "lists", arrays, {})
    if model.ranker is not None:  # the learned For you re-ranker (basket_ranker), booster as LightGBM's text
        (folder / RANKER_FILE).write_text(model.ranker.to_json())
    if model.allocation:  # the refit's exposure allocation: shopper -> the items their list drops and adds
        rows = {shopper: swap.to_json() for shopper, swap in sorted(model.allocation.items())}
        (folder / ALLOCATION_FILE).write_text(json.dumps(rows))
    tmp = folder / (VERSION_FILE + ".tmp")
    tmp.write_text(json.dumps({**meta, "events": model.events, "items": model.n_items}, indent=2, sort_keys=True))
    os.replace(tmp, folder / VERSION_FILE)  # last: the commit marker
    return folder


def load_served(root: Path, version: str) -> ServedModel:
    folder = root / version
    if not (folder / VERSION_FILE).is_file():
        raise KeyError(f"no recommender version {version!r}")
    arrays, meta = load_artifact(folder / "lists")
    backends = {name: Recommender.load(folder / name) for name in BACKENDS}
    for name, backend in backends.items():
        if not isinstance(backend, HypergraphRecommender):
            raise TypeError(f"{folder / name} holds a {type(backend).__name__}")
    events = json.loads((folder / VERSION_FILE).read_text())["events"]
    model = ServedModel(
        item_ids=np.asarray(arrays["item_ids"], dtype=np.int64),
        # Versions saved before titles and attributes were columns kept them as lists in the meta.
        titles=TextColumn.from_strings(meta["titles"]) if "titles" in meta else TextColumn.from_state(arrays, "titles"),
        attributes=ItemAttributes.from_dicts(meta["attributes"])
        if "attributes" in meta
        else ItemAttributes.from_state(arrays),
        shoppers={str(s): i for i, s in enumerate(arrays["shoppers"].tolist())},
        interactions=arrays["interactions"],
        personal=backends["personal"],  # type: ignore[arg-type]
        bought=backends["bought"],  # type: ignore[arg-type]
        viewed=backends["viewed"],  # type: ignore[arg-type]
        co_bought=arrays["co_bought"],
        co_viewed=arrays["co_viewed"],
        events=int(events),
    )
    if (folder / RANKER_FILE).is_file():
        model.ranker = BasketRanker.from_json((folder / RANKER_FILE).read_text(), model)
    if (folder / ALLOCATION_FILE).is_file():
        rows = json.loads((folder / ALLOCATION_FILE).read_text())
        model.allocation = {str(shopper): Swap.from_json(row) for shopper, row in rows.items()}
    return model


def list_versions(root: Path) -> list[dict]:
    """Every complete version's record, newest first."""
    if not root.is_dir():
        return []
    rows = [json.loads(p.read_text()) for p in root.glob(f"*/{VERSION_FILE}")]
    return sorted(rows, key=lambda r: r["created_at"], reverse=True)


def prune(root: Path, keep: int) -> None:
    """Remove all but the newest ``keep`` versions (and folders of interrupted saves)."""
    kept = {row["version"] for row in list_versions(root)[:keep]}
    for folder in root.glob("*"):
        if folder.is_dir() and folder.name not in kept:
            shutil.rmtree(folder, ignore_errors=True)
