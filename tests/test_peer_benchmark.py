"""benchmarks/bench_peers.py's corpus file, TailLift engine and quality scoring on tiny hand-made corpora."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks import peer_corpora
from benchmarks.bench_peers import taillift


def _corpus() -> peer_corpora.Corpus:
    vectors = np.eye(6, 8, dtype=np.float32)
    return peer_corpora.Corpus(
        "tiny",
        ["red dress", "blue dress", "red shirt", "blue shirt", "green socks", "red socks"],
        vectors,
        np.array(["a", "a", "a", "b", "b", "b"]),
        "auto",
        ["red", "socks"],
        vectors[[0, 5]],
        ["b", None],
    )


def test_corpus_file_round_trip(tmp_path):
    corpus = _corpus()
    corpus.save(tmp_path / "c.npz")
    back = peer_corpora.Corpus.load(tmp_path / "c.npz")
    assert back.texts == corpus.texts and back.query_groups == ["b", None] and back.stemmer == "auto"
    assert np.array_equal(back.vectors, corpus.vectors) and list(back.groups) == list(corpus.groups)


def test_taillift_engine_filters_and_finds_both_routes():
    corpus = _corpus()
    query = taillift(corpus, "Flat")
    filtered = query("red", corpus.query_vectors[0], "b")
    assert set(filtered) <= {3, 4, 5} and filtered[0] == 5  # "red socks": the only red item in group b
    assert query("socks", corpus.query_vectors[1], None)[0] == 5  # both BM25 and the vector point at row 5


def test_fashion_r10_counts_the_own_item_in_the_top_ten():
    assert peer_corpora.fashion_r10([[3, 1], [0]], np.array([1, 2])) == pytest.approx(0.5)


def test_crowdflower_ndcg_of_an_engine_list_follows_its_order():
    rows = pd.DataFrame(
        {
            "query": ["q"] * 4,
            "median_relevance": [4, 1, 3, 1],
            "row": [10, 11, 12, 13],
        }
    )
    quality = peer_corpora.CrowdFlowerQuality(_corpus(), rows, 0.0, 0)
    best = peer_corpora.crowdflower_ndcg10([[10, 12, 11, 13]], quality)
    worst = peer_corpora.crowdflower_ndcg10([[11, 13, 12, 10]], quality)
    assert best == pytest.approx(1.0) and worst < best
