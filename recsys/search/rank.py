"""Ranking step of search: candidate list -> features -> LightGBM (or the fallback) -> explanations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recsys.ranking.explain import explain_sentence
from recsys.ranking.fallback import fallback_scores
from recsys.ranking.features import FEATURES, CandidateList, Priors, build_features
from recsys.ranking.ranker import CATALOG, LambdaRanker, latest_version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ranked:
    order: np.ndarray  # candidate positions, best first
    scores: np.ndarray  # score per candidate (same order as the candidate list)
    explanations: dict[int, str]  # candidate position -> sentence, for the returned top-k
    features: np.ndarray


class RankingStep:
    """Loads the newest ranker trained for this catalog once; falls back to the documented weighted sum.

    Only ``models_dir/ranker/catalog/`` versions whose meta.json says ``purpose: catalog`` are used: a model
    trained on another corpus (``bench_ranker.py --save`` on CrowdFlower) never serves the catalog.
    """

    def __init__(self, models_dir: Path) -> None:
        self.ranker: LambdaRanker | None = None
        self.version = "fallback"
        path = latest_version(models_dir, CATALOG)
        if path is not None:
            try:
                self.ranker = LambdaRanker.load(path, expect_features=FEATURES.names, expect_purpose=CATALOG)
                self.version = path.name
            except (ValueError, OSError) as exc:
                log.warning("ranker %s not used (%s); using the fallback order", path, exc)

    def rank(self, candidates: CandidateList, priors: Priors | None, k: int) -> Ranked:
        X = build_features(candidates, priors)
        if self.ranker is not None:
            scores = self.ranker.predict(X)
            order = np.argsort(-scores, kind="stable")[:k]
            explanation = self.ranker.explain(X[order])
            sentences = {
                int(pos): explain_sentence(explanation.contributions[row], X[pos], FEATURES.names)
                for row, pos in enumerate(order)
            }
        else:
            scores = fallback_scores(X, FEATURES.names)
            order = np.argsort(-scores, kind="stable")[:k]
            sentences = {
                int(pos): "ordered by the untrained fallback (relevance signals, equal weights)" for pos in order
            }
        return Ranked(order, scores, sentences, X)
