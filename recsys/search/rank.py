"""Ranking step of search: candidate list -> features -> LightGBM (or the fallback) -> explanations.

A query with a photo is ranked in parts (``query_parts``): the ranker scores the text part on text-only features,
the photo part is the photo similarity, and the two standardised scores are summed with documented weights.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from recsys.ranking.explain import explain_sentence
from recsys.ranking.fallback import fallback_scores
from recsys.ranking.features import FEATURES, CandidateList, Priors, build_features
from recsys.ranking.ranker import CATALOG, LambdaRanker, latest_version
from recsys.search.query_parts import DEFAULT_PART_WEIGHTS, PartWeights, combine_parts

log = logging.getLogger(__name__)
FALLBACK_SENTENCE = "ordered by the untrained fallback (relevance signals, equal weights)"


@dataclass(frozen=True)
class Ranked:
    order: np.ndarray  # candidate positions, best first
    scores: np.ndarray  # score per candidate (same order as the candidate list)
    # candidate position -> sentence. Until ``RankingStep.explain`` writes the sentences (for the served page only,
    # the costly part at 40k items), it holds only the notes later steps appended, each starting with "; ".
    explanations: dict[int, str]
    features: np.ndarray  # what the ranker read (for a query with a photo: the text part's features)
    matched: list[str]  # per candidate: which query part it matched (query_parts.TEXT / PHOTO / BOTH / WEAK)


class RankingStep:
    """Loads the newest ranker trained for this catalog once; falls back to the documented weighted sum.

    Only ``models_dir/ranker/catalog/`` versions whose meta.json says ``purpose: catalog`` are used: a model
    trained on another corpus (``bench_ranker.py --save`` on CrowdFlower) never serves the catalog.
    """

    def __init__(self, models_dir: Path, part_weights: PartWeights = DEFAULT_PART_WEIGHTS) -> None:
        self.ranker: LambdaRanker | None = None
        self.version = "fallback"
        self.part_weights = part_weights
        path = latest_version(models_dir, CATALOG)
        if path is not None:
            try:
                self.ranker = LambdaRanker.load(path, expect_features=FEATURES.names, expect_purpose=CATALOG)
                self.version = path.name
            except (ValueError, OSError) as exc:
                log.warning("ranker %s not used (%s); using the fallback order", path, exc)

    def rank(self, candidates: CandidateList, priors: Priors | None, k: int) -> Ranked:
        """The top ``k``, explained."""
        ranked = self.score(candidates, priors)
        return self.explain(replace(ranked, order=ranked.order[:k]), candidates)

    def score(self, candidates: CandidateList, priors: Priors | None) -> Ranked:
        """Every candidate scored and ordered, none explained yet (later steps may still re-order the page)."""
        photo = candidates.scores.cos_image_image  # present exactly when the query has a photo
        if photo is None:
            X = build_features(candidates, priors)
            scores = self._text_scores(X)
            order = np.argsort(-scores, kind="stable")
            return Ranked(order, scores, {}, X, combine_parts(scores, None).matched)
        # The text part sees the features the ranker was trained on: everything but the photo's similarity.
        text_only = replace(candidates, scores=replace(candidates.scores, cos_image_image=None))
        X = build_features(text_only, priors)
        text_scores = self._text_scores(X) if candidates.query else None
        combined = combine_parts(text_scores, photo, self.part_weights)
        order = np.argsort(-combined.scores, kind="stable")
        return Ranked(order, combined.scores, {}, X, combined.matched)

    def explain(self, ranked: Ranked, candidates: CandidateList) -> Ranked:
        """Sentences for ``ranked.order`` (the page), each followed by the notes later steps left for it."""
        order = ranked.order
        photo = candidates.scores.cos_image_image
        if photo is None:
            words = self._text_words(ranked.features, order)
        else:
            photo_words = {int(pos): f"photo similarity {float(photo[pos]):.2f}" for pos in order}
            if candidates.query:
                text_words = self._text_words(ranked.features, order)
                words = {pos: f"{text_words[pos]}; {photo_words[pos]}" for pos in photo_words}
            else:
                words = {pos: f"ordered by likeness to your photo ({w})" for pos, w in photo_words.items()}
        notes = ranked.explanations
        return replace(ranked, explanations={pos: sentence + notes.get(pos, "") for pos, sentence in words.items()})

    def _text_scores(self, X: np.ndarray) -> np.ndarray:
        return self.ranker.predict(X) if self.ranker is not None else fallback_scores(X, FEATURES.names)

    def _text_words(self, X: np.ndarray, order: np.ndarray) -> dict[int, str]:
        if self.ranker is None:
            return {int(pos): FALLBACK_SENTENCE for pos in order}
        explanation = self.ranker.explain(X[order])
        return {
            int(pos): explain_sentence(explanation.contributions[row], X[pos], FEATURES.names)
            for row, pos in enumerate(order)
        }
