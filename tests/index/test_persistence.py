"""Save/load of both indexes: round trips, and None (= rebuild) for anything missing, corrupt or stale."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recsys.index.lexical import BM25Index
from recsys.index.store import MANIFEST
from recsys.index.vector import VectorIndex
from tests.index.data import clustered, queries_near

DIM = 16


@pytest.fixture
def saved(tmp_path):
    x = clustered(500, DIM, seed=8)
    index = VectorIndex(DIM, "IVF8,Flat", ef_search=32)
    index.build(np.arange(500) + 10, x)
    index.remove(np.array([10, 11]))
    manifest = index.save(tmp_path / "vec", {"model_version": "m1"})
    return index, tmp_path / "vec", manifest, x


def test_vector_round_trip(saved):
    index, path, manifest, x = saved
    assert manifest["count"] == 498 and manifest["dim"] == DIM and manifest["factory"] == "IVF8,Flat"
    assert set(manifest["files"]) == {"index.faiss", "labels.npy"} and manifest["created"]
    loaded = VectorIndex.load(path, expect={"model_version": "m1", "count": 498})
    assert loaded is not None and len(loaded) == 498 and loaded.ef_search == 32
    q = queries_near(x, 10)
    for a, b in zip(index.search(q, 7), loaded.search(q, 7)):
        np.testing.assert_array_equal(a, b)
    loaded.add(np.array([10]), x[:1])  # still editable (IVF direct map survived)
    assert len(loaded) == 499


@pytest.mark.parametrize("expect", [{"model_version": "m2"}, {"count": 500}, {"dim": 32}, {"factory": "Flat"}])
def test_vector_stale_manifest_returns_none(saved, expect):
    assert VectorIndex.load(saved[1], expect=expect) is None


def test_vector_corrupt_file_returns_none(saved):
    _, path, manifest, _ = saved
    index_file = path / manifest["data"] / "index.faiss"
    raw = bytearray(index_file.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    index_file.write_bytes(bytes(raw))
    assert VectorIndex.load(path) is None


def test_missing_or_foreign_directory_returns_none(saved, tmp_path):
    assert VectorIndex.load(tmp_path / "nowhere") is None
    assert BM25Index.load(saved[1]) is None  # a vector index is not a BM25 index


def test_resave_replaces_generation_and_sweeps_leftovers(saved):
    index, path, first, _ = saved
    (path / ".tmp-deadbeef").mkdir()  # what a process killed mid-save leaves behind
    second = index.save(path, {"model_version": "m2"})
    assert second["data"] != first["data"]
    assert sorted(p.name for p in path.iterdir()) == sorted([MANIFEST, second["data"]])
    assert VectorIndex.load(path, expect={"model_version": "m2"}) is not None


def test_kill_before_manifest_keeps_previous_index(saved, monkeypatch):
    index, path, first, _ = saved

    def crash(*_args):
        raise KeyboardInterrupt  # stands in for the process dying before the commit point

    monkeypatch.setattr("recsys.index.store.os.replace", crash)
    with pytest.raises(KeyboardInterrupt):
        index.save(path, {"model_version": "m2"})
    monkeypatch.undo()
    assert json.loads((path / MANIFEST).read_text())["data"] == first["data"]
    assert VectorIndex.load(path, expect={"model_version": "m1"}) is not None


def test_bm25_round_trip_and_corruption(tmp_path):
    index = BM25Index(stemmer="none")
    index.build(np.array([1, 2, 3]), ["red summer dress", "blue jeans", "red wool scarf"])
    manifest = index.save(tmp_path / "lex", {"model_version": "t1"})
    loaded = BM25Index.load(tmp_path / "lex", expect={"model_version": "t1", "count": 3, "stemmer": "none"})
    assert loaded is not None
    for a, b in zip(index.search("red dress", 3), loaded.search("red dress", 3)):
        np.testing.assert_array_equal(a, b)
    loaded.add([4], ["red shoes"])
    assert 4 in loaded.search("red", 5)[1]
    assert BM25Index.load(tmp_path / "lex", expect={"count": 4}) is None
    vocab = tmp_path / "lex" / manifest["data"] / "bm25" / "vocab.index.json"
    vocab.write_text(vocab.read_text().replace("red", "rad"))
    assert BM25Index.load(tmp_path / "lex") is None


def test_empty_indexes_round_trip(tmp_path):
    VectorIndex(DIM).save(tmp_path / "v")
    BM25Index(stemmer="none").save(tmp_path / "b")
    v, b = VectorIndex.load(tmp_path / "v"), BM25Index.load(tmp_path / "b")
    assert v is not None and len(v) == 0 and b is not None and len(b) == 0
    assert (v.search(np.ones((1, DIM)), 3)[1] == -1).all() and (b.search("x", 3)[1] == -1).all()
