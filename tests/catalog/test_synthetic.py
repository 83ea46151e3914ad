"""The synthetic (speed/memory only) catalog: real vocabulary recombined, vectors near real ones, labelled."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.catalog.synthetic import SYNTHETIC_MARK, FashionVocabulary, synthetic_catalog

STYLES = (
    "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n"
    "1,Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011.0,Casual,Turtle Check Men Navy Blue Shirt\n"
    "2,Men,Apparel,Bottomwear,Jeans,Blue,Summer,2012.0,Casual,Peter England Men Party Blue Jeans\n"
    "3,Women,Accessories,Watches,Watches,Silver,Winter,2016.0,Casual,Titan Women Silver Watch\n"
)


@pytest.fixture
def vocab(tmp_path) -> FashionVocabulary:
    path = tmp_path / "styles.csv"
    path.write_text(STYLES, encoding="utf-8")
    return FashionVocabulary.from_styles_csv(path)


def test_vocabulary_holds_the_real_values(vocab):
    assert vocab.values["gender"] == ("Men", "Women")
    assert "Titan" in vocab.title_words and "Shirt" in vocab.title_words


def test_items_recombine_vocabulary_and_are_marked_synthetic(vocab):
    base = np.random.default_rng(1).normal(size=(5, 16)).astype(np.float32)
    cat = synthetic_catalog(500, vocab, base, seed=3)
    assert len(cat) == 500 and cat.vectors.shape == (500, 16) and cat.vectors.dtype == np.float32
    words = set(vocab.title_words) | {w for v in vocab.values.values() for x in v for w in x.split()}
    assert all(set(t.split()) <= words for t in cat.titles)
    assert set(cat.attributes["articleType"]) <= set(vocab.values["articleType"])
    assert cat.item_attributes(0)[SYNTHETIC_MARK] == "1"
    assert (cat.prices > 0).all() and len(set(cat.prices.tolist())) > 50


def test_vectors_lie_around_their_real_base_vector(vocab):
    base = np.random.default_rng(2).normal(size=(20, 64)).astype(np.float32)
    cat = synthetic_catalog(300, vocab, base, noise=0.02, seed=4)
    unit = base / np.linalg.norm(base, axis=1, keepdims=True)
    np.testing.assert_allclose(np.linalg.norm(cat.vectors, axis=1), 1.0, atol=1e-5)
    nearest = np.argmax(cat.vectors @ unit.T, axis=1)
    assert (nearest == cat.base_rows).all()
    assert not np.allclose(cat.vectors, unit[cat.base_rows])  # noise was added


def test_same_seed_same_catalog(vocab):
    base = np.eye(8, dtype=np.float32)
    a, b = synthetic_catalog(50, vocab, base, seed=7), synthetic_catalog(50, vocab, base, seed=7)
    assert a.titles == b.titles and np.array_equal(a.vectors, b.vectors)


def test_bad_input_is_refused(vocab, tmp_path):
    with pytest.raises(ValueError):
        synthetic_catalog(0, vocab, np.eye(4, dtype=np.float32))
    with pytest.raises(ValueError):
        synthetic_catalog(10, vocab, np.empty((0, 4), dtype=np.float32))
    with pytest.raises(FileNotFoundError):
        FashionVocabulary.from_styles_csv(tmp_path / "missing.csv")
