"""Segmented BM25: after adds, updates and deletes as delta segments with tombstones, the same top-k and scores
as a full rebuild (BM25Index over the final texts), before and after a merge."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.index import segmented_lexical
from recsys.index.arrays import IdSet, top_k
from recsys.index.lexical import BM25Index
from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.vocabulary import Vocabulary
from tests.index.segment_fixture import QUERIES, EditedCatalog


@pytest.fixture(scope="module")
def catalog():
    return EditedCatalog()


def edited(catalog: EditedCatalog) -> SegmentedBM25:
    index = SegmentedBM25.build(catalog.ids, catalog.texts)
    for add, add_texts, _, deleted in catalog.edits:
        index = index.edited(add, add_texts, deleted)
    return index


def rebuilt(catalog: EditedCatalog) -> BM25Index:
    ids, texts, _ = catalog.final()
    full = BM25Index()
    full.build(ids, texts)
    return full


def assert_same(segmented, full, allowed=None):
    for query in QUERIES:
        got_scores, got = segmented.search(query, 25, allowed)
        want_scores, want = full.search(query, 25, allowed)
        np.testing.assert_allclose(got_scores, want_scores, rtol=1e-5)
        assert got.tolist() == want.tolist(), query


def test_edits_as_segments_score_as_a_full_rebuild(catalog):
    index, full = edited(catalog), rebuilt(catalog)
    assert len(index.segments) == 1 + len(catalog.edits) and len(index) == len(full)
    assert np.array_equal(index.ids(), full.ids())
    assert_same(index, full)
    allowed = full.ids()[::3]
    assert_same(index, full, allowed)
    ids = full.ids()[:200]
    np.testing.assert_allclose(index.score("silk dress", ids), full.score("silk dress", ids), rtol=1e-5)


def test_merge_folds_every_segment_and_keeps_the_results(catalog):
    index = edited(catalog)
    merged = index.merged()
    assert len(merged.segments) == 1 and merged.delta_items() == 0 < index.delta_items()
    assert_same(merged, rebuilt(catalog))
    assert index.search("red shirt", 5)[1].tolist() == merged.search("red shirt", 5)[1].tolist()  # old one intact


def test_a_deleted_item_is_never_found_and_an_update_replaces_the_old_text():
    index = SegmentedBM25.build([1, 2, 3], ["red silk scarf", "blue denim jeans", "green cotton shirt"])
    index = index.edited([2], ["purple velvet gown"], [3])
    assert index.search("denim", 10)[1].tolist() == [-1] * 10  # the old text of the updated item is tombstoned
    assert index.search("velvet", 10)[1][0] == 2
    assert 3 not in index.search("green cotton shirt", 10)[1]
    assert index.unknown_words("denim velvet") == ["denim"]
    assert len(index) == 2 and index.texts(np.array([2])) == ["purple velvet gown"]


def test_typo_vocabulary_counts_only_live_texts(catalog):
    index = edited(catalog)
    _, texts, _ = catalog.final()
    want = Vocabulary(texts)
    got = index.vocabulary()
    assert dict(got.frequency) == dict(want.frequency)
    for typo in ("sneekers", "denm", "flral", "hndbag", "shrt"):
        assert got.correction(typo) == want.correction(typo), typo
    gone = SegmentedBM25.build([1, 2], ["velvet gown", "cotton shirt"]).edited([], [], [1])
    assert gone.vocabulary().correction("velvat") is None  # its only text was deleted


@pytest.mark.parametrize("ratio", [0, 10**9], ids=["sorted-postings", "dense-rows"])
def test_both_ways_of_summing_postings_score_as_a_full_rebuild(catalog, monkeypatch, ratio):
    # Multi-word queries sum several terms' postings: sorted when few, a dense per-row array when many.
    monkeypatch.setattr("recsys.index.segmented_lexical.SPARSE_SUM_RATIO", ratio)
    index, full = edited(catalog), rebuilt(catalog)
    assert_same(index, full)
    assert_same(index, full, IdSet(full.ids()[::3]))


def every_hit_ranked(index: SegmentedBM25, query: str, k: int, allowed: IdSet | None):
    """The unpruned answer: every posting read, filtered, ranked."""
    ids, scores = index.hits(query)
    if allowed is not None:
        ids, scores = ids[allowed.contains(ids)], scores[allowed.contains(ids)]
    return top_k(scores, k, ids, pad_score=0.0)


def shop_texts(n: int, seed: int) -> list[str]:
    # Shaped like catalog text: a gender word in every document, a colour in a fifth, a type in a twentieth, a
    # brand in a hundredth; so the common words' postings are long and the brand's short.
    rng = np.random.default_rng(seed)
    colours = ["red", "blue", "black", "white", "green"]
    return [
        f"brand{rng.integers(100)} {rng.choice(['women', 'men'])} {rng.choice(colours)} type{rng.integers(20)}"
        + " soft" * int(rng.integers(3))
        for _ in range(n)
    ]


@pytest.mark.parametrize("skip_ratio", [1, 2, 16, 10**9], ids=["none-long", "few-long", "some-long", "all-long"])
def test_pruned_search_is_exactly_the_ranking_of_every_hit(monkeypatch, skip_ratio):
    # MaxScore skips the remaining long posting lists only when they cannot change the top k: same ids, same
    # float32 scores, across segments, tombstones and filters, for any k and wherever the checks are made.
    monkeypatch.setattr("recsys.index.segmented_lexical.SKIP_RATIO", skip_ratio)
    ids = np.arange(3_000, dtype=np.int64) * 3 + 1
    index = SegmentedBM25.build(ids, shop_texts(3_000, 0))
    index = index.edited(np.concatenate([ids[:40], np.arange(20_000, 20_030)]), shop_texts(70, 1), ids[40:90])
    pruned = []  # the long terms' shares added by binary search: the pruned way
    real = SegmentedBM25._added

    def spy(self, *args):
        pruned.append(True)
        return real(self, *args)

    monkeypatch.setattr(SegmentedBM25, "_added", spy)
    queries = ["brand7 women type3", "brand12 red", "women red soft", "brand3 brand4 men black type1", "women", "x"]
    for allowed in (None, IdSet(index.ids()[::3])):
        for query in queries:
            for k in (1, 10, 50):
                got_scores, got = index.search(query, k, allowed)
                want_scores, want = every_hit_ranked(index, query, k, allowed)
                assert got.tolist() == want.tolist(), (query, k)
                assert got_scores.tolist() == want_scores.tolist(), (query, k)
    if skip_ratio in (16, 10**9):  # 10**9: a check before every term after the first
        assert any(pruned), "brand and type words settle these queries' top k without the gender and colour words"
    if skip_ratio == 1:
        assert not any(pruned), "no term is long: nothing to skip"


def test_a_long_terms_parts_are_kept_per_snapshot_and_score_as_computed_anew():
    # A common word's tf parts are computed once per snapshot; they depend on the average length, so a snapshot
    # made by an edit (new statistics) has its own, and both answer bitwise as an index that never kept any.
    ids = np.arange(4_000, dtype=np.int64)
    texts = [t + " zari" * (n < 10) for n, t in enumerate(shop_texts(4_000, 3))]  # a rare word: 10 rows
    base = SegmentedBM25.build(ids, texts)
    queries = ["women red type3", "men black soft", "zari white", "women"]
    first = [base.search(q, 30, IdSet(ids[::2])) for q in queries]
    kept = {term for _, term in base._long_parts}  # noqa: SLF001
    assert {"women", "white"} <= kept and "zari" not in kept  # read by "women", "zari white"; "zari" is short
    again = [base.search(q, 30, IdSet(ids[::2])) for q in queries]
    edited = base.edited(np.arange(10_000, 10_200), [t + " soft soft soft" for t in shop_texts(200, 4)], ids[:300])
    assert edited.stats[1] / edited.stats[0] != base.stats[1] / base.stats[0]  # the average length moved
    never_kept = SegmentedBM25(edited.segments, edited.dead, stats=edited.stats)
    never_kept._posting_parts = lambda idf, segment, term, rows, tf: never_kept._term_part(idf[term], segment, rows, tf)  # noqa: SLF001
    for query, (s1, i1), (s2, i2) in zip(queries, first, again):
        assert i1.tolist() == i2.tolist() and s1.tolist() == s2.tolist(), query
        got_scores, got = edited.search(query, 30)
        want_scores, want = never_kept.search(query, 30)
        assert got.tolist() == want.tolist() and got_scores.tolist() == want_scores.tolist(), query


def test_a_build_or_merge_computes_the_long_parts_and_an_edit_keeps_them_while_the_mean_length_holds():
    # The parts are what a term's first query would compute; they depend on the mean document length only, so an
    # update keeping each text's length (a price edit) carries them and one that moves the mean does not.
    ids = np.arange(4_000, dtype=np.int64)
    texts = [t + " zari" * (n < 10) for n, t in enumerate(shop_texts(4_000, 5))]
    base = SegmentedBM25.build(ids, texts)
    segment = base.segments[0]
    warmed = {term for _, term in base._long_parts}  # noqa: SLF001
    assert {"women", "men", "red", "white"} <= warmed and "zari" not in warmed  # before any query; "zari" is short

    def never_kept(index: SegmentedBM25) -> SegmentedBM25:
        plain = SegmentedBM25(index.segments, index.dead, stats=index.stats)
        plain._posting_parts = lambda idf, seg, term, rows, tf: plain._term_part(idf[term], seg, rows, tf)  # noqa: SLF001
        return plain

    same_length = base.edited(ids[:50], texts[:50], [])
    assert same_length._long_parts[(id(segment), "women")] is base._long_parts[(id(segment), "women")]  # noqa: SLF001
    longer = base.edited(ids[:50], [t + " soft soft soft" for t in texts[:50]], [])
    assert not any(key[0] == id(segment) for key in longer._long_parts)  # noqa: SLF001
    merged = longer.merged()
    merged.warm()  # as the merge thread does (segment_merge.merge_state)
    assert {"women", "white"} <= {term for _, term in merged._long_parts}  # noqa: SLF001
    for index in (same_length, longer, merged):
        plain = never_kept(index)
        for query in ("women red type3", "men black soft", "zari white", "women"):
            for allowed in (None, IdSet(ids[::2])):
                got_scores, got = index.search(query, 30, allowed)
                want_scores, want = plain.search(query, 30, allowed)
                assert got.tolist() == want.tolist() and got_scores.tolist() == want_scores.tolist(), query
    assert len(base.edited([], [], ids)) == 0  # every item deleted: no mean length to compare, nothing carried


def test_a_term_bound_is_above_every_score_the_term_gives():
    index = SegmentedBM25.build(np.arange(500), shop_texts(500, 2))
    segment = index.segments[0]
    for query in ["women", "red", "brand5", "soft", "type2"]:
        idf = index._idf(query)
        (term,) = idf
        rows, tf = segment.postings(term)
        assert index._term_bound(idf[term], segment, term) > index._term_part(idf[term], segment, rows, tf).max()


@pytest.mark.parametrize("ratio", [0, 10**9], ids=["sorted-postings", "dense-rows"])
def test_score_of_candidates_is_bitwise_what_hits_gives_them(catalog, monkeypatch, ratio):
    # score() looks the candidates up in the postings instead of scoring every hit; the ranker's BM25 feature
    # must still be exactly the recall score, across segments and tombstones.
    monkeypatch.setattr("recsys.index.segmented_lexical.SPARSE_SUM_RATIO", ratio)
    index = edited(catalog)
    asked = np.concatenate([catalog.ids, np.arange(catalog.ids.max() + 1, catalog.ids.max() + 20)])
    for query in QUERIES:
        hit_ids, hit_scores = index.hits(query)
        want = dict(zip(hit_ids.tolist(), hit_scores.tolist()))
        got = index.score(query, asked)
        assert got.tolist() == [want.get(i, 0.0) for i in asked.tolist()], query


def test_merged_sum_adds_each_row_left_to_right_as_add_at_does():
    """The sparse sum (a stable merge, then level by level) must give the same float32 bits as np.add.at's
    sequential order, also for rows held by more than eight pieces (where numpy's pairwise sums would differ)."""
    from recsys.index.segmented_lexical import _merged_sum

    rng = np.random.default_rng(3)
    pieces = []
    for size in [5, 40, 300, 200, 7, 390, 350, 12, 380, 395, 390, 398]:  # twelve pieces over 400 rows
        rows = np.sort(rng.choice(400, size, replace=False)).astype(np.int64)
        pieces.append((rows, (rng.random(size) * 10 ** rng.uniform(-3, 3, size)).astype(np.float32)))
    hit, acc = _merged_sum(pieces)
    want_rows, where = np.unique(np.concatenate([r for r, _ in pieces]), return_inverse=True)
    want = np.zeros(want_rows.size, np.float32)
    np.add.at(want, where, np.concatenate([v for _, v in pieces]))
    assert hit.tolist() == want_rows.tolist()
    assert acc.dtype == np.float32 and acc.tobytes() == want.tobytes()
    assert np.bincount(where).max() > 8  # the case pairwise summation would get wrong
    assert _merged_sum([(np.empty(0, np.int64), np.empty(0, np.float32))])[0].size == 0


def test_a_filters_row_mask_is_made_once_per_snapshot_and_answers_as_checking_each_posting():
    # A long term's postings are checked against one live-and-allowed mask per (segment, filter), kept for the
    # snapshot's next queries; answers are bitwise those of checking each posting's id and tombstone directly.
    ids = np.arange(4_000, dtype=np.int64) * 2
    base = SegmentedBM25.build(ids, shop_texts(4_000, 5))
    index = base.edited(np.arange(9_000, 9_100), shop_texts(100, 6), ids[:500:3])  # tombstones in the base
    direct = SegmentedBM25(index.segments, index.dead, stats=index.stats)
    direct._row_mask = lambda *args: None  # noqa: SLF001
    women = IdSet(index.ids()[::2])
    queries = ["women red type3", "men black soft", "women", "brand3 white"]
    for allowed in (women, None, women):
        for query in queries:
            got_scores, got = index.search(query, 40, allowed)
            want_scores, want = direct.search(query, 40, allowed)
            assert got.tolist() == want.tolist() and got_scores.tolist() == want_scores.tolist(), query
    masks = index._row_masks  # noqa: SLF001
    assert len(masks) == 2 * len(index.segments) - 1  # women and unfiltered-live on the base; women on the delta
    mask = masks[(id(index.segments[0]), id(women))][1]
    assert mask.sum() == np.isin(index.segments[0].ids, np.setdiff1d(women.ids, index.dead[0])).sum()
    for n in range(12):  # many filters: only the newest few masks are kept
        index.search("women white", 10, IdSet(index.ids()[n::5]))
    assert len(index._row_masks) <= segmented_lexical.ROW_MASKS  # noqa: SLF001
    assert not index.edited([], [], ids[600:602])._row_masks  # noqa: SLF001  (a new snapshot: new tombstones)
