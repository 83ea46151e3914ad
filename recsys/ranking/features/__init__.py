"""Feature families for the ranker; each module computes one family for a whole candidate list."""
from .build import build_features
from .inputs import CandidateList, ItemStats, Priors, RouteScores
from .priors import fit_priors
from .registry import FEATURES, FeatureSet

__all__ = ["FEATURES", "CandidateList", "FeatureSet", "ItemStats", "Priors", "RouteScores", "build_features",
           "fit_priors"]
