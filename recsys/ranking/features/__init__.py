"""Feature families for the ranker; each module computes one family for a whole candidate list."""

from recsys.ranking.features.build import build_features
from recsys.ranking.features.inputs import CandidateList, ItemStats, Priors, RouteScores
from recsys.ranking.features.priors import fit_priors
from recsys.ranking.features.registry import FEATURES, FeatureSet

__all__ = [
    "FEATURES",
    "CandidateList",
    "FeatureSet",
    "ItemStats",
    "Priors",
    "RouteScores",
    "build_features",
    "fit_priors",
]
