"""Fashion suite scoring: the ridge-map baseline, the tasks and their methods, seeded ranking and the per-query
ranking metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from recsys.encoders.fusion import normalize_rows
from recsys.evaluation.metrics import mrr_at_k, ndcg_at_k, r_precision, recall_at_k
from recsys.index.hubness import DEFAULT_K as CSLS_K
from recsys.index.hubness import csls_scores
from recsys.splits import split_keys
from recsys.training.retrieval import paired_recall_mrr

RIDGE_ALPHAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)  # x n: the diagonal of the standardised Gram matrix is ~n
RIDGE_DEFAULT_ALPHA = 1.0  # used when too few fit items are left to choose on
RIDGE_MIN_VAL = 50


@dataclass(frozen=True)
class RidgeMap:
    """Standardised image features -> MiniLM text space, least squares with an L2 penalty."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    target_mean: np.ndarray
    alpha: float

    def predict(self, image_features: np.ndarray) -> np.ndarray:
        z = (image_features - self.mean) / self.scale
        return normalize_rows(z @ self.weights + self.target_mean)


def _solve(gram: np.ndarray, cross: np.ndarray, penalty: float) -> np.ndarray:
    eye = np.eye(len(gram))
    return scipy.linalg.solve(gram + penalty * eye, cross, assume_a="pos").astype(np.float32)


def fit_ridge(image: np.ndarray, text: np.ndarray, ids: Sequence[str]) -> RidgeMap:
    """The penalty is chosen by paired MRR@10 on 10% of the fit items (hash of the id), then refitted on all.

    ``image`` is standardised in place (the caller's array becomes z): on the full suite it is ~32k x 3408 floats
    (436 MB), and each copy of it used to add that much to the peak. The fit-rows Gram matrix is the full one minus
    the validation rows' (no copy of the fit rows), and the full one is reused for the final fit."""
    mean, std = image.mean(0), image.std(0)
    scale = np.where(std > 1e-6, std, 1.0).astype(np.float32)
    z = image if image.dtype == np.float32 else image.astype(np.float32)
    z -= mean
    z /= scale
    _, val_ids = split_keys(list(ids), 0.1, salt="taillift-fashion-ridge-validation")
    val = np.isin(np.asarray(ids), val_ids)
    gram_all = (z.T @ z).astype(np.float64)
    alpha = RIDGE_DEFAULT_ALPHA
    if val.sum() >= RIDGE_MIN_VAL and (~val).sum() > val.sum():
        scores = validation_mrr(z, text, val, gram_all)
        alpha = max(RIDGE_ALPHAS, key=scores.__getitem__)
    target_mean = text.mean(0)
    weights = _solve(gram_all, (z.T @ (text - target_mean)).astype(np.float64), alpha * len(z))
    return RidgeMap(mean, scale, weights, target_mean, alpha)


def validation_mrr(z: np.ndarray, text: np.ndarray, val: np.ndarray, gram_all: np.ndarray) -> dict[float, float]:
    """Paired MRR@10 on the ``val`` rows of a map fitted on the others, per penalty in ``RIDGE_ALPHAS``."""
    val_z, fit_mean = z[val], text[~val].mean(0)
    gram = gram_all - (val_z.T @ val_z).astype(np.float64)
    centred = np.where(val[:, None], 0.0, text - fit_mean).astype(np.float32)  # validation rows left out
    cross = (z.T @ centred).astype(np.float64)
    n_fit = int((~val).sum())
    truth = normalize_rows(text[val])
    scores = {}
    for alpha in RIDGE_ALPHAS:
        pred = normalize_rows(val_z @ _solve(gram, cross, alpha * n_fit) + fit_mean)
        scores[alpha] = paired_recall_mrr(truth, pred, k=10)[1]
    return scores


def rank(scores: np.ndarray, seed: int) -> np.ndarray:
    """Corpus positions best first for each query row; ties go by a seeded shuffle, never by corpus order."""
    tiebreak = np.random.default_rng(seed).random(scores.shape[1])
    return np.stack([np.lexsort((tiebreak, -row)) for row in scores])


def ranking_metrics(scores: np.ndarray, relevant: Sequence[set[int]], seed: int) -> dict[str, np.ndarray]:
    """Per-query Recall@1/10/100, MRR@10, nDCG@10 and R-precision of the ``rank`` order."""
    out: dict[str, list[float]] = {
        "recall@1": [],
        "recall@10": [],
        "recall@100": [],
        "mrr@10": [],
        "ndcg@10": [],
        "r_precision": [],
    }
    for order, rel in zip(rank(scores, seed), relevant):
        ranked = order[: max(100, len(rel))].tolist()
        for k in (1, 10, 100):
            out[f"recall@{k}"].append(recall_at_k(ranked, rel, k))
        out["mrr@10"].append(mrr_at_k(ranked, rel, 10))
        out["ndcg@10"].append(ndcg_at_k(ranked, rel, 10))
        out["r_precision"].append(r_precision(ranked, rel))
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


Scores = Callable[[], np.ndarray]
# query-time ablation rows (issue 19): the eval suite scores them, the quick before/after of the Training tab not
ABLATIONS = frozenset(
    {
        "taillift_joint_csls",
        "taillift_joint_prompts",
        "taillift_joint_prompts_csls",
        "taillift_joint_smoothed",
        "taillift_joint_prompts_smoothed",
    }
)
Tasks = dict[str, tuple[list[set[int]], np.ndarray, dict[str, tuple[Scores, dict, str]]]]


def scoring_tasks(
    v: dict[str, np.ndarray],
    ridge_map: RidgeMap | None,
    image: np.ndarray,
    own: list[set[int]],
    by_type: list[set[int]],
    item_tail: np.ndarray,
    type_tail: np.ndarray,
    seed: int,
    trained_here: bool,
    timings: dict,
    ridge_seconds: dict,
) -> Tasks:
    """task -> (relevant per query, tail mask per query, method -> (scores, fit seconds, notes)). Scores are lazy
    so that each method's "score" time includes its matrix product; random draws happen in the fixed task order."""
    rng = np.random.default_rng(seed)
    corpus = len(image)
    heads_fit = {"fit": timings["fit_heads"]} if trained_here else {}
    ridge_image = ridge_map.predict(image) if ridge_map is not None else None

    def random(rows: int) -> tuple[Scores, dict, str]:
        return (lambda: rng.random((rows, corpus))), {}, "seeded uniform scores"

    def ridge(queries: np.ndarray, what: str) -> dict:
        if ridge_image is None:
            return {}
        return {
            "ridge_map": (
                lambda: queries @ ridge_image.T,
                ridge_seconds,
                f"MiniLM({what}) vs ridge-mapped image features",
            )
        }

    def smoothed(queries: str, name: str = "taillift_joint_smoothed") -> dict:
        if "joint_image_smoothed" not in v or queries not in v:
            return {}
        note = "joint space, image vectors smoothed toward their type/colour/gender groups (attribute_smoothing)"
        return {name: (lambda: v[queries] @ v["joint_image_smoothed"].T, heads_fit, note)}

    return {
        "title->image": (
            own,
            item_tail,
            {
                "random": random(len(own)),
                **ridge(v["titles"], "title"),
                "taillift_joint": (
                    lambda: v["joint_title"] @ v["joint_image"].T,
                    heads_fit,
                    "joint space: text head vs image head",
                ),
                "taillift_joint_csls": (
                    lambda: csls_scores(v["joint_title"], v["joint_image"], v["joint_title"]),
                    heads_fit,
                    f"joint space, CSLS hubness reduction (k={CSLS_K}, reference = the corpus's titles)",
                ),
                **smoothed("joint_title"),
            },
        ),
        "title->item": (
            own,
            item_tail,
            {
                "random": random(len(own)),
                "minilm_text": (
                    lambda: v["titles"] @ v["item_bert"].T,
                    {},
                    "MiniLM(title) vs MiniLM(category path + attributes)",
                ),
                "taillift_fused": (
                    lambda: v["fused_title"] @ v["fused_item"].T,
                    heads_fit,
                    "fused vectors: joint 0.6 (image + untitled clip text), MiniLM 0.4",
                ),
            },
        ),
        "category->image": (
            by_type,
            type_tail,
            {
                "random": random(len(by_type)),
                **ridge(v["type_text"], "type name"),
                "taillift_joint": (
                    lambda: v["joint_type"] @ v["joint_image"].T,
                    heads_fit,
                    "joint space: text head vs image head",
                ),
                "taillift_joint_prompts": (
                    lambda: v["joint_type_prompts"] @ v["joint_image"].T,
                    heads_fit,
                    "joint space, type query = mean of the prompt-ensemble vectors (category_prompts.TEMPLATES)",
                ),
                "taillift_joint_csls": (
                    lambda: csls_scores(v["joint_type"], v["joint_image"], v["joint_title"]),
                    heads_fit,
                    f"joint space, CSLS hubness reduction (k={CSLS_K}, reference = the corpus's titles)",
                ),
                "taillift_joint_prompts_csls": (
                    lambda: csls_scores(v["joint_type_prompts"], v["joint_image"], v["joint_title"]),
                    heads_fit,
                    "joint space, prompt ensemble + CSLS",
                ),
                **smoothed("joint_type"),
                **smoothed("joint_type_prompts", "taillift_joint_prompts_smoothed"),
            },
        ),
    }
