"""Opinion ranker features read the live index's shrunk shares; pure parts (shrinkage, aspects, sentences)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recsys.opinions.aspects import load_aspects, seed_pattern
from recsys.opinions.sentences import review_sentences, split_sentences
from recsys.opinions.shrinkage import fit_prior, shrunk_share
from recsys.ranking.features.opinions import ASPECT_KEYS, NAMES, opinion_features
from tests.opinions.fixture_reviews import PILLING, SWEATER


def test_features_from_the_index(opinion_catalog):
    _, opinions, ids = opinion_catalog
    items = [ids[SWEATER], ids[PILLING], 999_999]
    shares = opinions.index.shrunk_shares(items, ASPECT_KEYS)
    feats = opinion_features(shares, opinions.index.mention_counts(items), 3)
    quality = NAMES.index("opinion_quality_praise")
    assert feats.shape == (3, len(NAMES)) and feats[0, quality] > feats[1, quality]  # well made vs pilling
    assert feats[2, quality] == pytest.approx(opinions.index.priors()["quality"].share_positive)  # no mention: prior
    assert feats[2, -1] == 0.0
    assert np.isnan(opinion_features(None, None, 2)).all()


def test_shrinkage_trusts_volume():
    prior = fit_prior(np.array([8, 1, 0]), np.array([2, 1, 2]))  # catalog share 9/14, median polar mentions 2
    assert prior.share_positive == pytest.approx(9 / 14) and prior.weight == 2.0
    two, many = shrunk_share(0, 2, prior), shrunk_share(0, 200, prior)
    assert 0.0 < many < two < prior.share_positive


def test_merchant_aspect_file_extends_and_replaces(tmp_path):
    extra = tmp_path / "aspects.json"
    extra.write_text(
        json.dumps(
            {
                "aspects": [
                    {"key": "pockets", "label": "Pockets", "seeds": ["pocket", "pockets"]},
                    {"key": "price", "label": "Value", "seeds": ["price"]},
                ]
            }
        )
    )
    aspects = {a.key: a for a in load_aspects(extra)}
    assert list(aspects)[:8] == list(ASPECT_KEYS) and "pockets" in aspects and aspects["price"].label == "Value"
    extra.write_text(json.dumps({"aspects": [{"key": "Bad Key", "label": "x", "seeds": ["a"]}]}))
    with pytest.raises(ValueError, match="key"):
        load_aspects(extra)
    assert seed_pattern(("fit",)).search("it fits") is None and seed_pattern(("fit",)).search("the fit is odd")


def test_sentences_are_verbatim_spans():
    text = "love the colour. runs small though!  Would buy again\nthanks"
    assert split_sentences(text) == ["love the colour.", "runs small though!", "Would buy again", "thanks"]
    assert all(s in text for s in split_sentences(text))
    assert review_sentences("Runs small", "") == ["Runs small"] and split_sentences("") == []
    assert split_sentences("颜色很好看。尺码偏小！") == ["颜色很好看。", "尺码偏小！"]
