"""The corpora ``bench_peers.py`` gives every engine: one SYNTHETIC (speed only) and two REAL ones (quality).

A corpus is what an engine indexes (row ids 0..n-1, one text for its own BM25, one float32 unit vector, one
keyword field to filter on) plus the queries asked of it (text, vector, the keyword value to filter on or
None). Every engine gets the same arrays, written once to an ``.npz`` so each engine's subprocess reads them.

Real corpora, with the vectors TailLift itself scores in its suites:
- ``fashion``: the fashion suite's title->item task (``recsys.evaluation.fashion``): corpus = the held-out items
  WITHOUT their titles (BM25 text: category path + attributes; vector: TailLift's fused item vector, image +
  untitled text), query = a title (its fused text vector), relevant = the item itself. No filter.
- ``crowdflower``: every judged (query, product) row of ``relevance.csv`` (BM25 text: title + description;
  vector: MiniLM of the same text, as the suite's dense scorer); each held-out query of the suite's split is
  asked with a filter to its own judged rows (keyword = the query), scored by the suite's nDCG@10.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.catalog.synthetic import SyntheticCatalog
from recsys.config import Settings
from recsys.evaluation import crowdflower, fashion
from recsys.evaluation import judged_scorers as js
from recsys.evaluation.dataset import resolve_suite_dir
from recsys.evaluation.text_encoding import text_encoder

SYNTHETIC_FILTER = "Women"  # gender


@dataclass(frozen=True)
class Corpus:
    name: str
    texts: list[str]
    vectors: np.ndarray  # float32 [n, d], unit rows; row i is id i
    groups: np.ndarray  # str [n], the keyword field every engine indexes for filtering
    stemmer: str  # TailLift's BM25 stemmer for these texts ("none": CrowdFlower text is pre-stemmed)
    query_texts: list[str]
    query_vectors: np.ndarray
    query_groups: list[str | None]  # the filter of each query (None: no filter)

    def __len__(self) -> int:
        return len(self.texts)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            name=self.name,
            texts=np.array(self.texts, dtype=object),
            vectors=self.vectors,
            groups=self.groups.astype(object),
            stemmer=self.stemmer,
            query_texts=np.array(self.query_texts, dtype=object),
            query_vectors=self.query_vectors,
            query_groups=np.array(self.query_groups, dtype=object),
        )

    @classmethod
    def load(cls, path: Path) -> Corpus:
        z = np.load(path, allow_pickle=True)  # our own file, written by save() in this run
        return cls(
            str(z["name"]),
            z["texts"].tolist(),
            z["vectors"].astype(np.float32),
            z["groups"].astype(str),
            str(z["stemmer"]),
            z["query_texts"].tolist(),
            z["query_vectors"].astype(np.float32),
            z["query_groups"].tolist(),
        )


def synthetic(cat: SyntheticCatalog, query_titles: list[str], query_vectors: np.ndarray) -> Corpus:
    """The speed corpus: titles for BM25, gender as the filter, every query filtered to Women."""
    return Corpus(
        "synthetic",
        list(cat.titles),
        cat.vectors.astype(np.float32),
        cat.attributes["gender"].astype(str),
        "auto",
        list(query_titles),
        np.asarray(query_vectors, np.float32),
        [SYNTHETIC_FILTER] * len(query_titles),
    )


@dataclass(frozen=True)
class FashionQuality:
    corpus: Corpus
    suite_r10: float  # the suite's taillift_fused recall@10 over every evaluated title (all queries)
    sample: np.ndarray  # the corpus rows whose titles are asked (query i is about row sample[i])
    version: str


def fashion_corpus(data_dir: Path, settings: Settings, queries: int, seed: int = 0) -> FashionQuality:
    """Runs the fashion suite once (heads trained on its fit items, no ridge, no ablation rows) and keeps the
    vectors it scored; ``queries`` titles sampled (seeded) from the evaluated items are asked of every engine."""
    out: dict = {}
    report = fashion.run(data_dir, settings=settings, seed=seed, ridge=False, ablations=False, vectors_out=out)
    vectors = out["vectors"]
    n = len(out["ids"])
    rows = np.sort(np.random.default_rng(seed).choice(n, size=min(queries, n), replace=False))
    corpus = Corpus(
        "fashion",
        list(out["untitled"]),
        vectors["fused_item"].astype(np.float32),
        np.full(n, "all", dtype=object).astype(str),
        "auto",
        [out["titles"][i] for i in rows],
        vectors["fused_title"][rows].astype(np.float32),
        [None] * len(rows),
    )
    r10 = report["methods"]["title->item/taillift_fused"]["metrics"]["recall@10"]
    return FashionQuality(corpus, float(r10), rows, report["model"]["version"])


def fashion_r10(top10: list[list[int]], sample: np.ndarray) -> float:
    """Recall@10 with one relevant item per query: the share of queries whose own item is in the top 10."""
    return float(np.mean([int(row) in set(top) for top, row in zip(top10, sample)]))


@dataclass(frozen=True)
class CrowdFlowerQuality:
    corpus: Corpus
    rows: pd.DataFrame  # the held-out rows (their corpus row ids in column "row"); corpus.query_texts: their queries
    ranker_ndcg10: float  # the suite's LightGBM ranker on the same held-out rows: TailLift's full pipeline
    seed: int


def crowdflower_corpus(data_dir: Path, settings: Settings, seed: int = 0) -> CrowdFlowerQuality:
    """Every judged row is indexed; the suite's held-out queries are asked, each filtered to its own rows."""
    data = crowdflower.read(resolve_suite_dir(data_dir, crowdflower.NAME, crowdflower.FILE))
    _, test, _ = crowdflower.split(data, None)
    encoder = text_encoder(settings)
    texts = js.product_text(data, with_description=True)
    queries = sorted(test["query"].unique())
    report = crowdflower.run(data_dir, settings=settings, seed=seed)
    corpus = Corpus(
        "crowdflower",
        texts,
        encoder.encode(texts).astype(np.float32),
        data["query"].to_numpy().astype(str),
        "none",
        queries,
        encoder.encode(queries).astype(np.float32),
        list(queries),
    )
    rows = test.assign(row=test.index.to_numpy())  # read() keeps a RangeIndex: label = corpus row
    return CrowdFlowerQuality(corpus, rows, float(report["methods"]["ranker"]["metrics"]["ndcg@10"]), seed)


def crowdflower_ndcg10(top10: list[list[int]], quality: CrowdFlowerQuality) -> float:
    """The suite's nDCG@10 (``crowdflower.score_method``) of the engine's top 10 per query; rows it did not
    return score 0 (their order below the top 10 does not enter nDCG@10)."""
    rank = {}
    for query_top in top10:
        rank.update({row: 10 - pos for pos, row in enumerate(query_top)})
    rows = quality.rows
    scores = np.array([rank.get(int(r), 0) for r in rows["row"]], dtype=float)
    return float(crowdflower.score_method(rows, scores, quality.seed, {})["metrics"]["ndcg@10"])
