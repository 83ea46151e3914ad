"""Item hypergraph: incidence H [items x edges], edge weights w, and the HGNN smoothing operator.

P = Dv^-1/2 H W De^-1 H^T Dv^-1/2 (Feng et al., "Hypergraph Neural Networks", AAAI 2019) with
Dv = H w (weighted item degree) and De = |e| (edge size). It is kept factored as A = Dv^-1/2 H and
B = W De^-1 H^T Dv^-1/2: a department edge over thousands of items would make P itself dense.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

USER_EDGES = "users"


@dataclass(frozen=True)
class Incidence:
    matrix: sparse.csr_matrix  # items x edges, binary
    weights: np.ndarray  # one weight per edge
    group_sizes: dict[str, int]  # how many edges each group contributed, in column order


def _binary(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    out = sparse.csr_matrix(matrix, dtype=np.float64, copy=True)
    out.data[:] = 1.0
    out.eliminate_zeros()
    return out


def build_incidence(
    interactions: sparse.csr_matrix,
    item_groups: dict[str, sparse.csr_matrix] | None,
    edge_weights: dict[str, float],
    user_edges: bool,
) -> Incidence:
    """Stack every group (and, if asked, each user's history as one edge) into one weighted incidence."""
    groups: dict[str, sparse.csr_matrix] = {}
    if user_edges:
        groups[USER_EDGES] = _binary(sparse.csr_matrix(interactions).T)
    for name, matrix in sorted((item_groups or {}).items()):
        if matrix.shape[0] != interactions.shape[1]:
            raise ValueError(f"item group {name!r} has {matrix.shape[0]} rows for {interactions.shape[1]} items")
        groups[name] = _binary(matrix)
    groups = {name: m for name, m in groups.items() if edge_weights.get(name, 1.0) > 0 and m.shape[1]}
    if not groups:
        return Incidence(sparse.csr_matrix((interactions.shape[1], 0)), np.zeros(0), {})
    matrix = sparse.hstack(list(groups.values()), format="csr")
    weights = np.concatenate([np.full(m.shape[1], edge_weights.get(name, 1.0)) for name, m in groups.items()])
    return Incidence(matrix, weights, {name: m.shape[1] for name, m in groups.items()})


def _safe_inverse(values: np.ndarray, power: float) -> np.ndarray:
    out = np.zeros_like(values, dtype=np.float64)
    positive = values > 0
    out[positive] = values[positive] ** -power  # isolated items / empty edges simply carry nothing
    return out


def smoothing_factors(incidence: Incidence) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """(A^T, B^T) in float32, so a column block Y = X^T (items x users) is smoothed as P^T Y = B^T (A^T Y).

    float32 and the items-major layout make propagation ~7x faster than float64 row blocks here.
    """
    h = incidence.matrix
    dv_half = sparse.diags(_safe_inverse(h @ incidence.weights, 0.5))
    de_inv = sparse.diags(_safe_inverse(np.asarray(h.sum(axis=0)).ravel(), 1.0))
    a = dv_half @ h
    b = sparse.diags(incidence.weights) @ de_inv @ h.T @ dv_half
    return sparse.csr_matrix(a.T, dtype=np.float32), sparse.csr_matrix(b.T, dtype=np.float32)


def smooth(columns: np.ndarray, a_t: sparse.csr_matrix, b_t: sparse.csr_matrix) -> np.ndarray:
    """One application of P to a dense items x users block (P is symmetric, so P^T = P)."""
    return b_t @ (a_t @ columns)
