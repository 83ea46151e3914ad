"""TailLift recommenders: one interface (``base.Recommender``), interchangeable backends."""

from recsys.recommend.base import Recommender
from recsys.recommend.cooccurrence import CooccurrenceRecommender
from recsys.recommend.hypergraph import HypergraphRecommender
from recsys.recommend.popularity import PopularityRecommender

__all__ = ["CooccurrenceRecommender", "HypergraphRecommender", "PopularityRecommender", "Recommender"]
