"""A learned next-basket re-ranker for the served "For you": LightGBM over (shopper, candidate item) rows.

Candidates are the shopper's own bought items plus the hypergraph's nearest neighbours of what they touched (the
top ``NEIGHBOURS`` by propagated mass and the top ``DEBIASED_NEIGHBOURS`` by popularity-debiased mass). Features
come only from what ``lists.for_shopper`` is given (the shopper's weighted items, oldest first) and the served
model (``FEATURES`` names them): own weight, items touched since, recency weight, share of the shopper's weight,
window size, propagated mass and rank, the hand blend's score, item popularity, buyers and reorder rate, tail flag,
aisle and department share of the shopper's weight.

Training never sees the order it predicts: ``training_split`` takes each shopper's last order as the target, their
events before it as the history, and the feature model (``served.fit_served``) is refitted on the events without
those last orders, so neither the shopper's weights nor the co-purchase edges hold the target basket. The served
model then scores its shoppers with the booster over features from the full model (shift by one order).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import lightgbm as lgb
import numpy as np
from scipy import sparse

from recsys.recommend.hypergraph import HypergraphRecommender, blend
from recsys.recommend.item_attributes import ItemAttributes

NEIGHBOURS = 60
DEBIASED_NEIGHBOURS = 40
CHUNK_CELLS = 2**24  # dense propagated values per batch of shoppers (``chunk_size``)
TARGET_ORDERS = 1  # each shopper's newest orders the ranker trains on, one shift each
MIN_TRAIN_SHOPPERS = 20  # fewer shoppers with a target order than this: no ranker, the hand blend serves
PURCHASE_WEIGHT = 5.0  # served.EVENT_WEIGHTS["purchase"] (not imported: served imports this module)
RECENCY_DECAY, RECENCY_ITEMS = 0.8, 10  # lists.RECENCY_DECAY / RECENCY_ITEMS (lists imports this module)
# The ranker's coverage knob: a candidate no other shopper has been shown yet (the exposure ledger's discount is 1)
# gets NOVELTY_BONUS added to its probability before the top-k is cut, so a slot goes to a new product when that
# costs less than the bonus in expected hits (0: the learned order; chosen on validation, docs/recommend.md
# "A learned next-basket re-ranker").
NOVELTY_BONUS = 0.0
# The other coverage knob: with a floor, only candidates the ranker gives at least REPEAT_FLOOR keep their place
# (weak repeats give way) and the other slots go to the hand blend's debiased neighbours x the exposure discount.
REPEAT_FLOOR = 0.0
# With HAND_FILL the slots the ranker's list leaves to items the shopper never bought go to the hand blend's
# debiased neighbours x the exposure discount (``lists._exposure_fill`` on the hand scores), not to its own picks.
HAND_FILL = False
PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "deterministic": True,
    "seed": 0,
    "verbose": -1,
}
ROUNDS = 200
FEATURES = (
    "own_weight",
    "own_weight_of_max",
    "items_since",
    "items_since_share",
    "recency_weight",
    "repeat_part",
    "weight_share",
    "window_items",
    "window_weight",
    "propagated_of_max",
    "log_propagated",
    "debiased_of_max",
    "propagated_rank",
    "hand_score",
    "log_popularity",
    "log_buyers",
    "reorder_rate",
    "is_tail",
    "aisle_share",
    "department_share",
)


class FeatureModel(Protocol):
    """What features are read from: ``served.ServedModel`` (a protocol, since served imports this module)."""

    personal: HypergraphRecommender
    interactions: sparse.csr_matrix
    attributes: ItemAttributes

    @property
    def n_items(self) -> int: ...

    @property
    def popularity(self) -> np.ndarray: ...

    @property
    def is_tail(self) -> np.ndarray: ...


@dataclass(frozen=True)
class ItemStats:
    log_popularity: np.ndarray
    log_buyers: np.ndarray
    reorder_rate: np.ndarray  # shoppers with two purchases' weight / shoppers with one, smoothed
    is_tail: np.ndarray
    aisle: np.ndarray  # int code of the item's category path ("department > aisle")
    department: np.ndarray  # int code of its first level


def item_stats(model: FeatureModel) -> ItemStats:
    weights = sparse.csr_matrix(model.interactions)
    bought = np.asarray((weights >= PURCHASE_WEIGHT).sum(axis=0)).ravel().astype(np.float64)
    again = np.asarray((weights >= 2 * PURCHASE_WEIGHT).sum(axis=0)).ravel().astype(np.float64)
    categories = model.attributes.column("category")
    _, aisle = np.unique(np.array(categories, dtype=object).astype(str), return_inverse=True)
    departments = [c.split(">")[0].strip() for c in categories]
    _, department = np.unique(np.array(departments, dtype=object).astype(str), return_inverse=True)
    return ItemStats(
        log_popularity=np.log1p(model.popularity),
        log_buyers=np.log1p(bought),
        reorder_rate=(again + 0.1) / (bought + 1.0),
        is_tail=model.is_tail.astype(np.float64),
        aisle=aisle.astype(np.int64),
        department=department.astype(np.int64),
    )


def recency_weights(weights: dict[int, float]) -> np.ndarray:
    """Same as ``lists.recency_weights``: each weight decayed by how many items the shopper touched after it."""
    newer = np.arange(len(weights))[::-1]
    return np.array(list(weights.values()), dtype=np.float64) * RECENCY_DECAY ** (newer / RECENCY_ITEMS)


def _rows(model: FeatureModel, shoppers: Sequence[dict[int, float]]) -> sparse.csr_matrix:
    data: list[float] = []
    rows: list[int] = []
    cols: list[int] = []
    for r, weights in enumerate(shoppers):
        data.extend(recency_weights(weights).tolist())
        rows.extend([r] * len(weights))
        cols.extend(weights)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(shoppers), model.n_items))


def _top(values: np.ndarray, n: int, exclude: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64, copy=True)
    values[exclude] = -np.inf
    n = min(n, int(np.isfinite(values).sum()))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    best = np.argpartition(-values, n - 1)[:n]
    return best[values[best] > 0]


def candidate_features(
    model: FeatureModel,
    stats: ItemStats,
    shoppers: Sequence[dict[int, float]],
    propagated: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each shopper's weights (index -> weight, oldest first): (candidate indices, features [c, FEATURES]).
    ``propagated``: ``model.personal.propagate`` of their recency-weighted rows, if already computed."""
    if not shoppers:
        return []
    row = _rows(model, shoppers)
    if propagated is None:
        propagated = model.personal.propagate(row)
    hand = blend(row, propagated, model.popularity, model.personal.alpha, model.personal.beta)
    debias = np.power(1.0 + model.popularity, 1.0)
    out = []
    for r, weights in enumerate(shoppers):
        own = np.fromiter(weights, dtype=np.int64, count=len(weights))
        w = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
        bought = own[w >= PURCHASE_WEIGHT]
        p = propagated[r].astype(np.float64)
        d = p / debias
        cands = np.unique(np.concatenate([bought, _top(p, NEIGHBOURS, own), _top(d, DEBIASED_NEIGHBOURS, own)]))
        n = len(weights)
        own_w = np.zeros(model.n_items)
        own_w[own] = w
        since = np.full(model.n_items, float(n))
        since[own] = np.arange(n)[::-1]
        rec = np.zeros(model.n_items)
        rec[own] = recency_weights(weights)
        total = w.sum() or 1.0
        aisle_w = np.bincount(stats.aisle[own], weights=w, minlength=stats.aisle.max() + 1)
        dept_w = np.bincount(stats.department[own], weights=w, minlength=stats.department.max() + 1)
        pc, dc = p[cands], d[cands]
        rank = np.empty(cands.size)
        rank[np.argsort(-pc, kind="stable")] = np.arange(cands.size)
        x = np.column_stack(
            [
                own_w[cands],
                own_w[cands] / (w.max() or 1.0),
                since[cands],
                since[cands] / max(n, 1),
                rec[cands],
                rec[cands] / (rec.max() or 1.0),
                own_w[cands] / total,
                np.full(cands.size, float(n)),
                np.full(cands.size, total),
                pc / (p.max() or 1.0),
                np.log(pc + 1e-12),
                dc / (d.max() or 1.0),
                np.log1p(rank),
                hand[r, cands],
                stats.log_popularity[cands],
                stats.log_buyers[cands],
                stats.reorder_rate[cands],
                stats.is_tail[cands],
                aisle_w[stats.aisle[cands]] / total,
                dept_w[stats.department[cands]] / total,
            ]
        ).astype(np.float32)
        out.append((cands, x))
    return out


@dataclass(frozen=True)
class TrainingSplit:
    """Each trained shopper's last order as the target, the events before it as the history."""

    history: dict[str, dict[int, float]]  # shopper -> index -> weight from the newest ``window`` earlier events
    targets: dict[str, frozenset]  # shopper -> item indices of their last order
    keep: np.ndarray  # bool per event: fitted by the feature model (every event of a target order onward is out)


def training_split(
    shoppers: Sequence[str],
    items: Sequence[int],
    kinds: Sequence[str],
    orders: Sequence[str],
    event_weights: dict[str, float],
    window: int,
) -> TrainingSplit:
    """Per event (in time order): shopper, item index, event name, order id ("" if none)."""
    last_order: dict[str, str] = {}
    for shopper, kind, order in zip(shoppers, kinds, orders):
        if kind == "purchase" and order:
            last_order[shopper] = order
    first_at: dict[str, int] = {}
    for position, (shopper, order) in enumerate(zip(shoppers, orders)):
        if order and last_order.get(shopper) == order and shopper not in first_at:
            first_at[shopper] = position
    keep = np.ones(len(shoppers), dtype=bool)
    before: dict[str, list[int]] = {}
    targets: dict[str, set[int]] = {}
    for position, (shopper, item, kind, order) in enumerate(zip(shoppers, items, kinds, orders)):
        cut = first_at.get(shopper)
        if cut is None:
            continue
        if position < cut:
            before.setdefault(shopper, []).append(position)
            continue
        keep[position] = False
        if kind == "purchase" and order == last_order[shopper]:
            targets.setdefault(shopper, set()).add(int(item))
    history: dict[str, dict[int, float]] = {}
    for shopper, positions in before.items():
        weights: dict[int, float] = {}
        for position in positions[-window:]:
            item = int(items[position])
            weights[item] = weights.pop(item, 0.0) + event_weights[kinds[position]]
        history[shopper] = weights
    return TrainingSplit(
        history=history,
        targets={s: frozenset(t) for s, t in targets.items() if s in history},
        keep=keep,
    )


def training_rows(
    model: FeatureModel, history: dict[str, dict[int, float]], targets: dict[str, frozenset]
) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels): one row per (shopper, candidate), label 1 when the candidate is in the target order."""
    names = sorted(s for s in targets if history.get(s))
    stats = item_stats(model)
    xs, ys = [], []
    step = chunk_size(model.n_items)
    for start in range(0, len(names), step):
        block = names[start : start + step]
        for name, (cands, x) in zip(block, candidate_features(model, stats, [history[s] for s in block])):
            xs.append(x)
            ys.append(np.isin(cands, np.fromiter(targets[name], dtype=np.int64)).astype(np.float32))
    if not xs:
        return np.zeros((0, len(FEATURES)), dtype=np.float32), np.zeros(0, dtype=np.float32)
    return np.concatenate(xs), np.concatenate(ys)


class BasketRanker:
    """The fitted booster with the item statistics of the model it serves over."""

    def __init__(self, booster: lgb.Booster, stats: ItemStats, fit_seconds: float, rows: int) -> None:
        self.booster, self.stats = booster, stats
        self.fit_seconds, self.rows = fit_seconds, rows
        self.novelty = NOVELTY_BONUS
        self.floor = REPEAT_FLOOR
        self.hand_fill = HAND_FILL

    def to_json(self) -> str:
        return json.dumps(
            {"booster": self.booster.model_to_string(), "fit_seconds": self.fit_seconds, "rows": self.rows}
        )

    @classmethod
    def from_json(cls, text: str, model: FeatureModel) -> BasketRanker:
        """A saved ranker, serving over ``model`` (the model it was fitted with, loaded back)."""
        saved = json.loads(text)
        booster = lgb.Booster(model_str=saved["booster"])
        return cls(booster, item_stats(model), float(saved["fit_seconds"]), int(saved["rows"]))

    def probabilities(
        self, model: FeatureModel, weights: dict[int, float], propagated: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(candidate indices, the booster's probability that each is in the shopper's next basket); ``propagated``
        is the shopper's propagated row when the caller has it already."""
        cands, x = candidate_features(model, self.stats, [weights], propagated)[0]
        if not cands.size:
            return cands, np.zeros(0)
        return cands, np.asarray(self.booster.predict(x, num_threads=1), dtype=np.float64)

    def ranked(self, model: FeatureModel, shoppers: Sequence[dict[int, float]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per shopper's weights: (candidates best first, their probabilities), items only browsed (below a
        purchase's weight) left out, as For you orders them; propagated ``chunk_size`` shoppers at a time."""
        out = []
        chunk = chunk_size(model.n_items)
        for start in range(0, len(shoppers), chunk):
            block = shoppers[start : start + chunk]
            for weights, (cands, x) in zip(block, candidate_features(model, self.stats, block)):
                prob = np.asarray(self.booster.predict(x, num_threads=1), dtype=np.float64) if cands.size else x[:, 0]
                out.append(list_order(model.popularity, weights, cands, prob))
        return out


def list_order(
    popularity: np.ndarray, weights: dict[int, float], cands: np.ndarray, prob: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(candidates, probabilities) as For you may show them, best first: items only browsed (below a purchase's
    weight) and zero probabilities left out, ties to the more popular item, then the lower index (``lists``' order);
    the same at the refit's allocation and at a request."""
    browsed = [i for i, w in weights.items() if w < PURCHASE_WEIGHT]
    keep = ~np.isin(cands, np.asarray(browsed, dtype=np.int64)) & (prob > 0)
    cands, prob = cands[keep], prob[keep]
    order = np.lexsort((cands, -np.asarray(popularity)[cands], -prob))
    return cands[order], prob[order]


def chunk_size(n_items: int) -> int:
    """Shoppers propagated at once: their dense [shoppers, items] rows stay near ``CHUNK_CELLS`` values (a million
    items: 16 shoppers, ~200 MB of float32 and float64 rows; the instacart catalog's 49,688: 337)."""
    return max(1, min(1024, CHUNK_CELLS // max(n_items, 1)))


def fit_booster(x: np.ndarray, y: np.ndarray, rounds: int = ROUNDS) -> lgb.Booster | None:
    """None when the rows cannot teach anything (no positive or no negative)."""
    if not x.shape[0] or y.min() == y.max():
        return None
    data = lgb.Dataset(x, label=y, feature_name=list(FEATURES), free_raw_data=True)
    return lgb.train(PARAMS, data, num_boost_round=rounds)
