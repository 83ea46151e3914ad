"""The opinion model on the multilingual text model: sentence vectors encode and cache, a model trained on the
English fixture reviews only reads Chinese sentences (cross-lingual transfer), saved models stay keyed by their
text model, and the written Chinese test set parses (tests/opinions/data/README.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from recsys.config import Settings
from recsys.encoders.multilingual import USE_MULTILINGUAL
from recsys.opinions.aspects import load_aspects
from recsys.opinions.fitting import fit_from_reviews
from recsys.opinions.labelled import POLARITIES, read_written
from recsys.opinions.mentions import ReviewText
from recsys.opinions.store import load_current, save_model
from recsys.opinions.vectors import SMALL_BATCH, SentenceVectors, cache_key
from tests.opinions.conftest import MINILM
from tests.opinions.fixture_reviews import REVIEWS

ZH_SET = Path(__file__).parent / "data" / "aspect_sentences_zh.jsonl"


class _Refuse:
    def encode(self, texts):
        raise AssertionError(f"encoded {len(texts)} sentences that should have come from the cache")


def test_multilingual_vectors_encode_and_cache(tmp_path):
    sentences = [f"尺码偏小，第{k}次买。" for k in range(SMALL_BATCH + 3)]  # more than SMALL_BATCH: the disk cache
    first = SentenceVectors(USE_MULTILINGUAL, tmp_path)
    vecs = first.encode(sentences)
    assert vecs.shape == (len(sentences), 512) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    again = SentenceVectors(USE_MULTILINGUAL, tmp_path)
    again._lazy = again._cached.encoder = _Refuse()  # a second process: everything from the disk cache
    assert np.allclose(again.encode(sentences[::-1]), vecs[::-1])
    # one file per text model: MiniLM's cache never serves multilingual rows (or the other way round)
    assert cache_key(USE_MULTILINGUAL) != cache_key(MINILM)
    assert SentenceVectors(MINILM, tmp_path)._cached.path != first._cached.path
    assert not SentenceVectors(MINILM, tmp_path)._cached.contains(sentences[0])


def test_multilingual_vectors_map_chinese_near_english(tmp_path):
    zh, en_same, en_other = SentenceVectors(USE_MULTILINGUAL, tmp_path).encode(
        ["这条裙子偏小。", "This dress runs small.", "The package arrived late."]
    )
    assert zh @ en_same > zh @ en_other + 0.1


def _fixture_reviews() -> list[ReviewText]:
    names = sorted({r[0] for r in REVIEWS})
    now = datetime.now(UTC)
    return [ReviewText(k, names.index(n), rating, t, x, now) for k, (n, rating, t, x) in enumerate(REVIEWS)]


@pytest.fixture(scope="module")
def multilingual_model(tmp_path_factory):
    """Trained on the English fixture reviews only: nothing Chinese is seen in training."""
    vectors = SentenceVectors(USE_MULTILINGUAL, tmp_path_factory.mktemp("cache"))
    aspects = load_aspects()
    return fit_from_reviews(_fixture_reviews(), None, aspects, vectors, vectors.model_name), vectors


@pytest.mark.parametrize(
    ("sentence", "aspect", "positive"),
    [
        ("尺码偏小，建议拍大一码。", "fit", False),  # runs small, size up
        ("面料很柔软，穿着很舒服。", "fabric", True),  # soft fabric, comfortable
        ("质量太差，洗了一次就起球了。", "quality", False),  # poor quality, pilled after one wash
    ],
)
def test_english_trained_model_reads_chinese(multilingual_model, sentence, aspect, positive):
    model, vectors = multilingual_model
    found = model.apply(vectors.encode([sentence]))
    hits = {k for k, hit in zip(model.aspect_keys, found.aspect_hits[0]) if hit}
    assert aspect in hits
    assert (found.positive[0] >= 0.5) == positive


def test_english_trained_model_finds_no_aspect_in_plain_praise(multilingual_model):
    model, vectors = multilingual_model
    assert not model.apply(vectors.encode(["很喜欢！"])).aspect_hits.any()  # "love it!": no aspect named


def test_saved_model_is_served_on_its_own_text_model_only(multilingual_model, tmp_path):
    model, _ = multilingual_model
    aspects = load_aspects()
    save_model(tmp_path, model)
    assert load_current(tmp_path, aspects, USE_MULTILINGUAL) is not None
    assert load_current(tmp_path, aspects, MINILM) is None


def test_setting_names_the_opinion_text_model():
    assert Settings.from_env(environ={}).opinion_text_model == USE_MULTILINGUAL  # the default reads Chinese
    assert Settings.from_env(environ={"RECSYS_OPINION_TEXT_MODEL": MINILM}).opinion_text_model == MINILM


def test_written_chinese_set_parses():
    keys = {a.key for a in load_aspects()}
    labelled = read_written(ZH_SET, keys)
    assert len(labelled) >= 60
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in s.text) for s in labelled)
    assert keys == {k for s in labelled for k in s.aspects}  # every aspect has sentences
    assert any(not s.aspects for s in labelled)
    assert {p for s in labelled for p in s.aspects.values()} <= set(POLARITIES)


def test_written_set_rejects_unknown_aspects(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "版型很好", "aspects": {"silhouette": "positive"}}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown aspect"):
        read_written(bad, {a.key for a in load_aspects()})


def test_service_on_the_default_model_summarises_a_posted_chinese_review(tmp_path):
    """End to end on the default settings (no text model named): the catalog's English reviews train the model,
    a Chinese review posted afterwards reaches the item's summary, quoted verbatim."""
    from recsys.accounts.principal import SHOPPER, Principal
    from recsys.service.catalog import CatalogService
    from recsys.service.opinions import Opinions
    from tests.opinions.conftest import OWNER, fill_fixture_catalog

    settings = Settings.from_env(
        {
            "data_dir": tmp_path / "data",
            "demo_dir": tmp_path / "no-demo",
            "demo_limit": 0,
            "demo_reviews_path": tmp_path / "no-reviews.csv",
        },
        environ={},
    )
    assert settings.opinion_text_model == USE_MULTILINGUAL
    catalog = CatalogService(settings)
    try:
        ids = fill_fixture_catalog(catalog)
        opinions = Opinions(catalog.store, settings)
        opinions.build()
        item = ids[sorted(OWNER)[0]]
        sentence = "尺码偏小，建议拍大一码。"
        catalog.add_review(Principal("zh-shopper", SHOPPER), item, 2, "", sentence)  # reaches the index live
        fit = next(a for a in opinions.item_summary(item).aspects if a.key == "fit")
        # the verdict is read from the Chinese sentence ("runs small, size up"); its polarity on a model trained on
        # 18 reviews is the weak part (near neutral), so the polarity calls are tested on the model above
        assert fit.verdict == "runs small" and fit.mentions == 1
        assert [q.sentence for q in fit.quotes] == [sentence]  # verbatim, from this item's own review
    finally:
        catalog.close()
