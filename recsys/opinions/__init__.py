"""Review opinion analysis: which aspects each review sentence talks about, with what polarity, per item.

One concept per module: ``aspects`` (the list, as data), ``sentences`` (splitting), ``vectors`` (sentence vectors
from the shipped text model), ``train`` / ``model`` (the classifiers), ``mentions`` (review -> mentions),
``shrinkage``, ``summary`` (per item), ``index`` (incremental live index), ``merchant`` (merchant view),
``labelled`` (the hand-labelled test set), ``review_features`` (review-level features for the reviews suite).
"""
