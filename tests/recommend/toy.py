"""A hand-made shop: 6 items, 3 users, 3 baskets, 2 aisles.

items: 0 milk, 1 bread, 2 butter, 3 jam, 4 oat milk (never bought, shares aisle 0 with milk), 5 soap (never
bought, alone in aisle 1). Baskets: {0,1}, {1,2}, {0,1,2}. Users: u0 bought 0 and 1, u1 bought 1 and 2, u2 3.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

N_ITEMS = 6


def csr(rows: list[list[int]], n_cols: int, values: list[list[float]] | None = None) -> sparse.csr_matrix:
    r = [i for i, row in enumerate(rows) for _ in row]
    c = [j for row in rows for j in row]
    v = [x for row in values for x in row] if values else np.ones(len(c))
    return sparse.csr_matrix((v, (r, c)), shape=(len(rows), n_cols))


def interactions() -> sparse.csr_matrix:
    return csr([[0, 1], [1, 2], [3]], N_ITEMS, [[2, 1], [1, 1], [1]])


def baskets() -> sparse.csr_matrix:
    """items x baskets."""
    return csr([[0, 1], [1, 2], [0, 1, 2]], N_ITEMS).T.tocsr()


def aisles() -> sparse.csr_matrix:
    """items x aisles: milk and oat milk share aisle 0; soap is alone in aisle 1."""
    return csr([[0], [], [], [], [0], [1]], 2)
