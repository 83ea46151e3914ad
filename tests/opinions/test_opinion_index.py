"""The live opinion index on the fixture catalog: aspects found, polarity, real quotes, shrinkage, incremental adds."""

from __future__ import annotations

from datetime import UTC, datetime

from recsys.opinions.mentions import ReviewText
from recsys.opinions.sentences import review_sentences
from tests.opinions.fixture_reviews import PILLING, PLAIN, REVIEWS, SWEATER, TIGHT


def _sentences_of(name: str) -> set[str]:
    return {s for item, _, title, text in REVIEWS if item == name for s in review_sentences(title, text)}


def _aspect(summary, key):
    return next((a for a in summary.aspects if a.key == key), None)


def test_fit_runs_small_with_real_quotes(opinion_catalog):
    _, opinions, ids = opinion_catalog
    summary = opinions.item_summary(ids[TIGHT])
    fit = _aspect(summary, "fit")
    assert fit is not None and fit.mentions >= 4
    assert fit.verdict == "runs small" and fit.verdict_count >= 3
    assert fit.headline == f"Fit: runs small ({fit.verdict_count} of {fit.mentions} mentions)"
    assert fit.negative > fit.positive
    assert 1 <= len(fit.quotes) <= 2
    for quote in fit.quotes:  # verbatim sentences of this item's reviews, never of another item's
        assert quote.sentence in _sentences_of(TIGHT)


def test_praise_and_complaints_by_aspect(opinion_catalog):
    _, opinions, ids = opinion_catalog
    sweater = opinions.item_summary(ids[SWEATER])
    comfort, fabric = _aspect(sweater, "comfort"), _aspect(sweater, "fabric")
    assert comfort is not None and comfort.positive > comfort.negative
    assert fabric is not None and fabric.positive > fabric.negative
    quality = _aspect(opinions.item_summary(ids[PILLING]), "quality")
    assert quality is not None and quality.negative >= 3 and quality.negative > quality.positive
    assert all(q.sentence in _sentences_of(PILLING) for q in quality.quotes)


def test_shrinkage_pulls_a_single_review_toward_the_catalog(opinion_catalog):
    _, opinions, ids = opinion_catalog
    plain = _aspect(opinions.item_summary(ids[PLAIN]), "quality")
    assert plain is not None and plain.positive == 0 and plain.negative >= 1
    prior = opinions.index.priors()["quality"]
    assert plain.share_positive == 0.0
    assert 0.0 < plain.shrunk_positive < prior.share_positive  # pulled up from 0, still below the catalog's share


def test_adding_a_review_classifies_only_that_review(opinion_catalog):
    catalog, opinions, ids = opinion_catalog
    index = opinions.index
    before = opinions.item_summary(ids[SWEATER])
    known = len(index.mentions())
    review = ReviewText(10_000, ids[SWEATER], 1, "Itchy", "The fabric is scratchy and itchy.", datetime.now(UTC))
    added = index.add_reviews([review])
    assert added >= 1 and len(index.mentions()) == known + added
    assert index.add_reviews([review]) == 0  # the same review again changes nothing
    after = _aspect(opinions.item_summary(ids[SWEATER]), "fabric")
    new_fabric = [m for m in index.mentions([ids[SWEATER]]) if m.review_id == 10_000 and m.aspect == "fabric"]
    assert new_fabric and all(m.polarity == "negative" for m in new_fabric)
    assert after.negative == _aspect(before, "fabric").negative + len(new_fabric)
    assert after.mentions == _aspect(before, "fabric").mentions + len(new_fabric)
    index.drop_items([ids[SWEATER]])
    assert opinions.item_summary(ids[SWEATER]).aspects == []
    opinions._items_changed("upsert", [ids[SWEATER]])  # the catalog's notification brings its reviews back
    assert _aspect(opinions.item_summary(ids[SWEATER]), "comfort") is not None
