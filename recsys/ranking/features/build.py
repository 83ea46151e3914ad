"""Assemble every feature family for one candidate list into the model's column order."""

from __future__ import annotations

import numpy as np

from recsys.ranking.features.cross import cross_features
from recsys.ranking.features.inputs import CandidateList, Priors
from recsys.ranking.features.late_interaction import late_interaction_features
from recsys.ranking.features.opinions import opinion_features
from recsys.ranking.features.popularity import popularity_features
from recsys.ranking.features.price import price_features
from recsys.ranking.features.quality import quality_features
from recsys.ranking.features.query_match import query_match_features
from recsys.ranking.features.query_norm import query_norm_features
from recsys.ranking.features.registry import FEATURES
from recsys.ranking.features.result_set import first_stage_scores, result_set_features
from recsys.ranking.features.scores import route_score_features
from recsys.ranking.features.session import session_features
from recsys.ranking.features.text_match import text_match_features


def build_features(candidates: CandidateList, priors: Priors | None = None) -> np.ndarray:
    """float32 [n, len(FEATURES)], columns in ``FEATURES.names`` order."""
    n = len(candidates)
    blocks = {
        "route_scores": route_score_features(candidates.scores, n),
        "text_match": text_match_features(candidates.query, candidates.titles, candidates.descriptions),
        "late_interaction": late_interaction_features(candidates.query_tokens, candidates.title_tokens, n),
        "result_set": result_set_features(candidates.item_vectors, first_stage_scores(candidates.scores), n),
    }
    # Cross and per-query features read earlier columns by name.
    named = {name: blocks[fam][:, i] for fam in blocks for i, name in enumerate(dict(FEATURES.families)[fam])}
    blocks["cross"] = cross_features(named, n)
    blocks["query_norm"] = query_norm_features(named, n)
    blocks["quality"] = quality_features(candidates.items, priors, n)
    blocks["price"] = price_features(candidates.items, n)
    blocks["popularity"] = popularity_features(candidates.items, priors, n)
    blocks["session"] = session_features(candidates.item_vectors, candidates.clicked_vectors, n)
    blocks["query_match"] = query_match_features(
        candidates.query, candidates.titles, candidates.descriptions, candidates.items.price
    )
    blocks["opinions"] = opinion_features(candidates.items.opinion_shares, candidates.items.opinion_mentions, n)
    return np.concatenate([blocks[family] for family, _ in FEATURES.families], axis=1)
