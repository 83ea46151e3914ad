from recsys.recommend import (
    CooccurrenceRecommender,
    HypergraphRecommender,
    PopularityRecommender,
)
from tests.recommend import toy


def test_popularity_ranks_by_interaction_mass():
    model = PopularityRecommender().fit(toy.interactions())
    ids, scores = model.recommend([0], toy.interactions(), n=3)
    assert ids.tolist() == [[0, 1, 2]] and scores.tolist() == [[2.0, 2.0, 1.0]]  # tie 0/1 -> lower index


def test_cooccurrence_counts_shared_baskets():
    model = CooccurrenceRecommender().fit(toy.interactions(), {"basket": toy.baskets()})
    assert model.cooc.toarray()[0, :3].tolist() == [0.0, 2.0, 1.0]  # milk-bread twice, milk-butter once
    ids, scores = model.recommend([0], toy.interactions(), n=2, filter_already_liked=True)
    assert ids.tolist() == [[2, 3]] and scores[0, 0] == 3.0  # butter: 1 (with milk) + 2 (with bread)
    similar, _ = model.similar_items([1], n=2)
    assert similar.tolist() == [[0, 2]]


def test_hypergraph_reaches_an_item_through_a_category_edge_only():
    with_aisles = HypergraphRecommender(beta=1.0).fit(
        toy.interactions(), {"basket": toy.baskets(), "aisle": toy.aisles()}
    )
    baskets_only = HypergraphRecommender(beta=1.0).fit(toy.interactions(), {"basket": toy.baskets()})
    user0 = toy.interactions()[[0]]
    p_with, p_without = with_aisles.propagate(user0)[0], baskets_only.propagate(user0)[0]
    assert p_with[4] > 0 and p_without[4] == 0  # oat milk: never bought, shares the aisle with milk
    assert p_with[5] == 0  # soap shares no edge with anything u0 touched
    assert p_with[3] == 0  # jam was bought, but never with u0's items


def test_debiasing_lifts_the_unbought_item():
    groups = {"basket": toy.baskets(), "aisle": toy.aisles()}
    plain = HypergraphRecommender(alpha=0.0, beta=1.0).fit(toy.interactions(), groups)
    debiased = HypergraphRecommender(alpha=2.0, beta=1.0).fit(toy.interactions(), groups)
    rank = lambda model: model.recommend([0], toy.interactions(), n=6, filter_already_liked=True)[0][0].tolist()
    assert rank(plain).index(4) > rank(debiased).index(4) == 0  # oat milk moves to the top


def test_filter_already_liked_drops_own_items():
    groups = {"basket": toy.baskets(), "aisle": toy.aisles()}
    for model in (PopularityRecommender(), CooccurrenceRecommender(), HypergraphRecommender()):
        model.fit(toy.interactions(), groups)
        kept, _ = model.recommend([0, 1], toy.interactions(), n=4, filter_already_liked=False)
        dropped, _ = model.recommend([0, 1], toy.interactions(), n=4, filter_already_liked=True)
        assert {0, 1} <= set(kept[0]) and not {0, 1} & set(dropped[0])
        assert not {1, 2} & set(dropped[1])


def test_hypergraph_similar_items_exclude_the_item_itself():
    model = HypergraphRecommender().fit(toy.interactions(), {"basket": toy.baskets(), "aisle": toy.aisles()})
    ids, _ = model.similar_items([0, 4], n=2)
    assert 0 not in ids[0] and 4 not in ids[1]
    assert ids[1, 0] == 0  # oat milk's only neighbour is milk
