"""Hard-negative mining: nearest admissible items, never the item itself nor a same-text duplicate."""

from __future__ import annotations

import numpy as np

from recsys.training.negatives import mine_hard_negatives


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_mining_takes_the_nearest_other_items_and_skips_own_item_and_duplicates():
    pool = _unit([[1, 0], [0.9, 0.1], [0.8, 0.2], [0, 1]])
    pool_item = np.array([0, 1, 2, 3])
    pool_text = np.array([10, 11, 12, 13])
    query = _unit([[1, 0]])  # query of item 0; item 1 has the same text (a duplicate listing)
    hard = mine_hard_negatives(
        query, pool, np.array([0]), pool_item, np.array([11]), pool_text, count=1, depth=1, seed=0
    )
    assert hard.tolist() == [[2]]  # 0 is its own item, 1 a same-text duplicate: 2 is the nearest admissible


def test_mining_draws_within_depth_and_fills_short_lists():
    rng = np.random.default_rng(0)
    pool = _unit(rng.normal(size=(50, 8)))
    ids = np.arange(50)
    hard = mine_hard_negatives(pool[:5], pool, ids[:5], ids, ids[:5], ids, count=3, depth=6, seed=1)
    sims = pool[:5] @ pool.T
    for row in range(5):
        ranked = [j for j in np.argsort(-sims[row]) if j != row][:6]
        assert set(hard[row]) <= set(ranked) and len(set(hard[row])) == 3
    # Only one admissible neighbour: the rest are filled with valid pool rows, so the shape is always full.
    tiny = mine_hard_negatives(pool[:1], pool[:2], ids[:1], ids[:2], ids[:1], ids[:2], count=3, depth=5, seed=0)
    assert tiny.shape == (1, 3) and tiny[0, 0] == 1 and ((tiny >= 0) & (tiny < 2)).all()
