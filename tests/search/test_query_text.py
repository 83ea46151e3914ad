"""How a search reads its text: typos corrected against the catalog's words, long queries trimmed, a hint when
nothing matches, and a price filter that says what it hides."""

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.index.lexical import BM25Index
from recsys.index.vocabulary import Vocabulary, edit_distance
from recsys.search.filters import SearchFilters
from recsys.search.query_text import MAX_QUERY_CHARS, prepare, trim
from recsys.search.types import SearchRequest
from recsys.ui import search_tab
from recsys.ui.placeholder import placeholder_image

TEXTS = (
    ["Men Blue Jeans"] * 6
    + ["Women Skinny Jeggings"] * 2
    + ["Men Black Tshirt", "Men Tshirts Casual", "Women Tshirts", "Blue Blur Print Top"]
    + ["Red blue dress"] * 3
)


def titles(service, response):
    items = service.get_items([h.item_id for h in response.hits], with_reviews=False)
    return [items[h.item_id].title for h in response.hits]


def test_edit_distance_counts_swaps_as_one_edit():
    assert edit_distance("jeens", "jeans", 2) == 1
    assert edit_distance("shrit", "shirt", 2) == 1  # neighbours swapped
    assert edit_distance("tshrt", "tshirt", 2) == 1
    assert edit_distance("jeans", "jeggings", 2) == 3  # past the limit: limit + 1


def test_the_vocabulary_corrects_to_the_closest_then_most_frequent_catalog_word():
    vocabulary = Vocabulary(TEXTS)
    assert vocabulary.correction("jeens") == "jeans"
    assert vocabulary.correction("tshrt") == "tshirt"
    assert vocabulary.correction("jeanns") == "jeans"  # two edits allowed from six letters
    assert vocabulary.correction("bluw") == "blue"  # "blur" is as close but rarer
    assert vocabulary.correction("jeans") is None  # known
    assert vocabulary.correction("zq") is None and vocabulary.correction("2024") is None  # too short, a number
    assert vocabulary.correction("laptop") is None  # nothing close


def test_prepare_corrects_only_words_the_index_does_not_know():
    lexical = BM25Index()
    lexical.build(list(range(len(TEXTS))), TEXTS)
    read = prepare("Mens JEENS tshrt", lexical)
    assert read.searched == "Mens jeans tshirt" and read.typed == "Mens JEENS tshrt"
    assert read.corrections == (("jeens", "jeans"), ("tshrt", "tshirt"))
    assert prepare("blue jeans", lexical).corrections == ()  # "mens" and "jean" stems are known: nothing to do
    assert prepare("jeens", lexical, correct_typos=False).searched == "jeens"
    found = lexical.search(read.searched, 10)[1]
    assert set(found[found >= 0].tolist()) >= set(range(6))  # every pair of jeans, none lost to the typo


def test_long_queries_are_cut_at_a_word_boundary():
    long = "red cotton shirt " * 120
    cut = trim(long.strip())
    assert len(cut) <= MAX_QUERY_CHARS and long.startswith(cut) and cut.endswith("shirt")
    assert trim("short query") == "short query"
    assert len(trim("x" * 1000)) == MAX_QUERY_CHARS  # no space to cut at


def test_a_misspelt_search_shows_results_for_the_correction(small_search_service):
    service = small_search_service
    response = service.search(SearchRequest(text="blakc sneekers", k=5, log=False))
    assert response.reading.query.searched == "black sneakers"
    assert titles(service, response)[0] == "Black cotton sneakers"
    assert "Showing results for “black sneakers” (you typed “blakc sneekers”)." in response.reading.notices()
    exact = service.search(SearchRequest(text="blakc sneekers", k=5, log=False, correct_typos=False))
    assert not exact.reading.query.corrected and titles(service, exact)[0] != "Black cotton sneakers"


def test_a_long_query_is_trimmed_with_a_notice(small_search_service):
    response = small_search_service.search(SearchRequest(text="yellow cotton handbag " * 100, k=3, log=False))
    assert response.reading.query.trimmed and len(response.reading.query.searched) <= MAX_QUERY_CHARS
    assert titles(small_search_service, response)[0] == "Yellow cotton handbag"
    assert response.reading.notices()[0].startswith("Your query was 2,199 characters long: only its first ")


@pytest.mark.parametrize(("text", "understood"), [("qwxz plmk", False), ("footwear", True), ("red shirt", True)])
def test_a_query_nothing_matches_gets_a_hint(small_search_service, text, understood):
    response = small_search_service.search(SearchRequest(text=text, k=5, log=False))
    assert response.reading.understood is understood
    assert any("none is close in meaning" in line for line in response.reading.notices()) is not understood


def test_filters_that_leave_no_candidate_are_not_blamed_on_the_words(small_search_service):
    # Every item costs more than 1: the filter, not the query, is why nothing is shown.
    cheap = SearchRequest(text="red shirt", k=5, log=False, filters=SearchFilters(max_price=1))
    response = small_search_service.search(cheap)
    assert response.hits == [] and response.reading.understood
    assert not any("none is close in meaning" in line for line in response.reading.notices())


@pytest.fixture
def unpriced_items(small_search_service):
    """Two items without a price (and without images), removed again after the test."""
    service = small_search_service
    added = [
        service.add_item(SYSTEM, {"title": f"Red cotton scarf {n}", "category": "Apparel > Scarves"}, []).id
        for n in (1, 2)
    ]
    assert service.engine.wait_idle()
    yield added
    for item_id in added:
        service.delete_item(SYSTEM, item_id)
    assert service.engine.wait_idle()


def test_a_price_filter_says_how_many_candidates_it_hides_for_having_no_price(small_search_service, unpriced_items):
    service = small_search_service
    scarves = service.search(SearchRequest(text="scarf", k=10, log=False, filters=SearchFilters(min_price=1)))
    unknown = scarves.reading.price_unknown
    assert unknown is not None and unknown.unpriced == 2 and unknown.candidates >= 2
    assert not {h.item_id for h in scarves.hits} & set(unpriced_items)
    sentence = f"2 of {unknown.candidates} candidates have no price and are hidden by the price filter."
    assert sentence in scarves.reading.notices()
    _, _, status, *_ = search_tab.run_search(service, "scarf", None, [], [], [], 1, None, "price-ui")
    assert sentence in status.replace("&#46;", ".")  # escaped for Markdown
    unfiltered = service.search(SearchRequest(text="scarf", k=10, log=False))
    assert unfiltered.reading.price_unknown is None and set(unpriced_items) <= {h.item_id for h in unfiltered.hits}


def test_items_without_images_show_the_placeholder_in_results(small_search_service, unpriced_items):
    entries, hits, *_ = search_tab.run_search(small_search_service, "red cotton scarf", None, [], [], [], 0, 0, "ph")
    shown = {h["item_id"]: path for h, (path, _) in zip(hits, entries)}
    assert {shown[i] for i in unpriced_items} == {placeholder_image()}
