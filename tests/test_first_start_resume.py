"""A first start killed anywhere resumes and ends where an uninterrupted start ends.

Child processes run ``TailLiftService.start()`` (seed the demo, train the heads, encode, index, train the ranker)
on a generated demo catalog in the fashion set's format. One data dir is killed with SIGKILL at each stage in
turn: mid-import, before the demo reviews, while saving the heads, mid-way through encoding (inside a batch's
transaction), while training the ranker; a last start then runs to completion. Its catalog, reviews, vectors,
models and search answers are compared with those of one uninterrupted start.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recsys.config import REPO_ROOT
from tests.demo_catalog import write_demo_dir

ITEMS, BATCH = 240, 50  # >= 200 pairs: the heads are trained on first start

CHILD = r"""
import functools, json, logging, os, signal, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
overrides, kill_at = json.loads(sys.argv[1]), sys.argv[2]

from sqlalchemy import func, select
from recsys import registry
from recsys.catalog import importer, repository
from recsys.catalog.models import Item, ItemEmbedding, ItemImage, Review
from recsys.config import Settings
from recsys.encoders.routes import ITEM_ROUTES
from recsys.search.types import SearchRequest
from recsys.service import catalog, taillift
from recsys.training import catalog_ranker


def die():
    print(f"KILLED at {kill_at}", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def kill_on_call(module, name, call):
    real, calls = getattr(module, name), [0]
    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == call:
            die()
        return real(*args, **kwargs)
    setattr(module, name, wrapper)


def save_then_die(settings, version, config, write_files):
    def write(folder):  # the weights are on disk in the temp folder, the version is not in place yet
        write_files(folder)
        die()
    return real_save(settings, version, config, write)


# A small grid and query sample keep the background ranker to seconds; the code path is the app's.
taillift.train_catalog_ranker = functools.partial(
    catalog_ranker.train_catalog_ranker, max_queries=60,
    grid={"num_leaves": [15], "learning_rate": [0.1], "min_data_in_leaf": [20], "feature_fraction": [0.9]})
real_save = registry.save_version
if kill_at == "seed-batch":
    kill_on_call(importer, "_commit_batch", 3)  # two batches committed
elif kill_at == "seed-reviews":
    kill_on_call(catalog, "attach_demo_reviews", 1)
elif kill_at == "heads-save":
    registry.save_version = save_then_die
elif kill_at == "encode":
    kill_on_call(repository, "save_embeddings", 2 * len(ITEM_ROUTES) + 2)  # inside the third batch's transaction
elif kill_at == "ranker":
    kill_on_call(catalog_ranker, "train_and_save", 1)

service = taillift.TailLiftService(Settings.from_env(overrides, environ={}))
service.start()
if service.ranker_job is not None:
    service.ranker_job.wait()
version = service.engine.encoder.version
with service.sessions() as session:
    rows = lambda query: sorted(list(map(str, r)) for r in session.execute(query).all())
    vectors = {route: session.scalar(select(func.count()).select_from(ItemEmbedding).where(
        ItemEmbedding.model_version == version, ItemEmbedding.route == route)) for route in ITEM_ROUTES}
    summary = {
        "items": rows(select(Item.external_id, Item.title, Item.category, Item.attributes)),
        "images": rows(select(Item.external_id, ItemImage.sha256, ItemImage.position).join(ItemImage)),
        "reviews": rows(select(Item.external_id, Review.rating, Review.title, Review.text, Review.source)
                        .join(Review)),
        "vectors": vectors,
        "other_versions": session.scalar(select(func.count()).select_from(ItemEmbedding).where(
            ItemEmbedding.model_version != version)),
        "missing": {route: len(repository.items_missing_embeddings(session, version, route))
                    for route in ITEM_ROUTES},
    }
active = registry.active_version(service.settings)
external = {i.id: i.external_id for i in service.get_items(range(1, 10_000)).values()}
summary.update(
    active=active, serving=service.serving_encoder_version(),
    fingerprint=registry.read_config(registry.version_dir(service.settings, active))["data_fingerprint"],
    ranker=service.engine.ranking.version, ranker_job=service.ranker_job.status if service.ranker_job else None,
    searches={q: [external[h.item_id] for h in service.search(SearchRequest(text=q, k=10, log=False)).hits]
              for q in ("red dress", "blue tops", "black casual shoes", "white handbags", "green shirts")},
)
service.close()
print("SUMMARY " + json.dumps(summary))
"""


def _start(data_dir: Path, demo: Path, kill_at: str = "") -> subprocess.Popen:
    overrides = {
        "data_dir": str(data_dir),
        "database_url": "",
        "demo_dir": str(demo / "fashion"),
        "demo_reviews_path": str(demo / "reviews.csv"),
        "demo_limit": 1000,
        "import_batch_size": BATCH,
        "encode_batch_size": 32,
        "auto_train_min_items": 100,
        # the ranker waits for the review opinions: MiniLM is loaded anyway, the multilingual default would add
        # its own model to every child that gets that far (opinions have their own tests)
        "opinion_text_model": "sentence-transformers/all-MiniLM-L6-v2",
    }
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(overrides), kill_at],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen, kill_at: str = "") -> dict:
    out, err = proc.communicate(timeout=300)
    if kill_at:
        assert proc.returncode == -signal.SIGKILL and f"KILLED at {kill_at}" in err, err[-3000:]
        return {}
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.split("SUMMARY ", 1)[1])


def _db(data_dir: Path, sql: str) -> int:
    with sqlite3.connect(data_dir / "catalog.sqlite3") as conn:
        return conn.execute(sql).fetchone()[0]


def _vectors(data_dir: Path) -> dict[tuple[str, str], np.ndarray]:
    with sqlite3.connect(data_dir / "catalog.sqlite3") as conn:
        rows = conn.execute(
            "select i.external_id, e.route, e.vector from item_embeddings e join items i on i.id = e.item_id"
        ).fetchall()
    return {(ext, route): np.frombuffer(blob, dtype="<f4") for ext, route, blob in rows}


def _seed_state(data_dir: Path) -> str:
    return json.loads((data_dir / "demo-seed.json").read_text())["state"]


def _left_by(kill_at: str, data_dir: Path) -> None:
    """What each kill left behind: proof that the next start has something to resume."""
    items, reviews = _db(data_dir, "select count(*) from items"), _db(data_dir, "select count(*) from reviews")
    vectors = _db(data_dir, "select count(*) from item_embeddings")
    models = data_dir / "models"
    if kill_at == "seed-batch":
        assert (items, reviews, _seed_state(data_dir)) == (2 * BATCH, 0, "seeding")
    elif kill_at == "seed-reviews":
        assert (items, reviews, _seed_state(data_dir)) == (ITEMS, 0, "seeding")
    elif kill_at == "heads-save":
        assert _seed_state(data_dir) == "done" and reviews > 0
        assert not (models / "ACTIVE").exists() and any(p.name.startswith(".tmp-") for p in models.iterdir())
    elif kill_at == "encode":
        assert (models / "ACTIVE").exists() and 0 < vectors < ITEMS * 5 and vectors % 5 == 0  # whole batches
    elif kill_at == "ranker":
        assert vectors == ITEMS * 5 and not list((models / "ranker").rglob("meta.json"))


@pytest.mark.slow
def test_first_start_killed_at_every_stage_ends_like_an_uninterrupted_one(tmp_path):
    demo = write_demo_dir(tmp_path / "demo", items=ITEMS)
    whole_proc = _start(tmp_path / "whole", demo)  # in parallel with the killed ones: same inputs, own data dir
    resumed = tmp_path / "resumed"
    for kill_at in ("seed-batch", "seed-reviews", "heads-save", "encode", "ranker"):
        _finish(_start(resumed, demo, kill_at), kill_at)
        _left_by(kill_at, resumed)
    after = _finish(_start(resumed, demo))
    whole = _finish(whole_proc)

    assert len(whole["items"]) == ITEMS and whole["reviews"] and whole["active"] and whole["ranker"] != "fallback"
    for key in ("items", "images", "reviews", "vectors", "missing", "fingerprint"):
        assert after[key] == whole[key], key
    # Items encoded by a later start get tower features computed in other batches than one start computes them
    # in (the feature cache), so vectors agree to float noise, not bit for bit, and near-ties deep in a result
    # list may swap. Two uninterrupted starts agree bit for bit. The demo catalog has 8 items per colour and type
    # ("Red dresses style N", one photo variant apart): for a query naming both (understood, boosted) they are the
    # first 8 hits, equally relevant, and their order among themselves is such a near-tie, so it is compared as a set.
    resumed_vectors, whole_vectors = _vectors(resumed), _vectors(tmp_path / "whole")
    assert resumed_vectors.keys() == whole_vectors.keys()
    assert max(float(np.abs(resumed_vectors[k] - whole_vectors[k]).max()) for k in whole_vectors) < 1e-4
    for query, hits in whole["searches"].items():
        assert set(after["searches"][query][:8]) == set(hits[:8]), query
        assert len(set(after["searches"][query]) & set(hits)) >= 8, query
    assert set(after["missing"].values()) == {0} and set(after["vectors"].values()) == {ITEMS}
    assert after["other_versions"] == 0 and after["active"] == after["serving"]
    assert after["ranker"] != "fallback" and after["ranker_job"] == "done"
