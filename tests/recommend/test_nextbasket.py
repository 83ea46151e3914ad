import numpy as np
import pandas as pd

from recsys.evaluation import instacart_data
from recsys.recommend import baskets, validation
from recsys.recommend.nextbasket import taillift_methods
from recsys.recommend.repeat import repeat_matrix
from tests.evaluation import fixtures


def _lines(rows: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["order_id", "user_id", "order_number", "product_id"])


def test_validation_target_is_second_to_last_order_never_the_evaluated_one(tmp_path):
    folder = fixtures.write_instacart(tmp_path / "data")
    data = instacart_data.load(folder)
    last_number = instacart_data.read_orders(folder).groupby("user_id")["order_number"].max()
    split = validation.carve(data.fit, data.histories)
    assert split.target_orders and not split.target_orders & data.target_orders
    assert not set(split.fit["order_id"]) & split.target_orders
    assert not set(split.history["order_id"]) & (split.target_orders | data.target_orders)
    for user, history in data.histories.items():
        last = history[history["order_number"] == history["order_number"].max()]
        assert split.targets[user] == frozenset(last["product_id"])
        assert last["order_number"].iloc[0] == last_number[user] - 1  # second-to-last overall


def test_repeat_weights_count_orders_and_prefer_recent_ties():
    lines = _lines([(1, 7, 1, 10), (1, 7, 1, 11), (2, 7, 2, 11), (2, 7, 2, 12), (3, 7, 3, 10)])
    catalog = np.array([10, 11, 12])
    counts = repeat_matrix(lines, np.array([7]), catalog, decay=1.0).toarray()[0]
    assert np.floor(counts).tolist() == [2, 2, 1] and counts[0] > counts[1]  # 10 bought more recently than 11
    decayed = repeat_matrix(lines, np.array([7]), catalog, decay=0.5).toarray()[0]
    assert np.allclose(decayed, [1.25, 0.75, 0.5], atol=2e-3)  # 10: 0.5^0 + 0.5^2; 11: 0.5^1 + 0.5^2


def test_category_incidence_skips_junk_rows(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text('1,"Milk, whole",5,2\nbad,row,1,1\n2,Oat milk,5,2\n3,Soap,x,4\n')
    groups = baskets.category_incidence(path, np.array([1, 2, 3]))
    assert groups["aisle"].toarray().tolist() == [[1.0], [1.0], [0.0]]
    assert groups["department"].toarray().tolist() == [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]  # soap's dept is valid


def test_taillift_methods_give_k_distinct_ids_deterministically(tmp_path):
    folder = fixtures.write_instacart(tmp_path / "data")
    data = instacart_data.load(folder)
    users = sorted(data.targets)
    run = lambda: taillift_methods(
        data.fit, data.histories, users, data.catalog, folder / "products.csv", 20, data.target_orders
    )
    first, second = run(), run()
    assert set(first) == {"taillift_hypergraph", "taillift_hypergraph_debiased"}
    for name, result in first.items():
        assert set(result.recommendations) == set(users)
        assert all(len(set(r)) == 20 and set(r) <= set(data.catalog.tolist()) for r in result.recommendations.values())
        assert result.recommendations == second[name].recommendations
        assert "validation" in result.notes
