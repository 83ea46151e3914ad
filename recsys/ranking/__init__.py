"""Learning-to-rank: feature families, a LightGBM LambdaRank model, grouped cross-validation, explanations.

See docs/ranking.md for the feature table and the measured numbers.
"""
