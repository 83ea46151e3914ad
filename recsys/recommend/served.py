"""What the app serves: the backends fitted over a catalog's own events, with shopper and item ids mapped to indices.

Built from plain rows (``ItemRow``, ``EventRow``), so the same code fits the fashion demo's visitor events and the
Instacart baskets. Hyperedges: purchase baskets (one per order), browsing sessions, each shopper's history, and the
items' attributes (type, brand, colour, category), so an item nobody bought yet still has neighbours.

- ``personal``: hypergraph over all edges, popularity-debiased; "For you" and "Complete your basket".
- ``bought`` / ``viewed``: hypergraphs over baskets / sessions plus the attribute edges at a low weight: co-bought
  (co-viewed) items come first, then look-alikes for items without co-occurrence.
- co-count matrices say *why* ("bought together in 3 orders") in the one-line reasons.
- ``ranker`` (``fit_served(..., ranker=True)``): a learned For you re-ranker (``basket_ranker``), and with a
  ``novelty_price`` the refit's exposure allocation over its known shoppers (``allocation``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from recsys.recommend import basket_ranker
from recsys.recommend.allocation import Swap, allocate
from recsys.recommend.cooccurrence import binary
from recsys.recommend.exposure import ExposureLedger
from recsys.recommend.hypergraph import HypergraphRecommender
from recsys.recommend.item_attributes import ItemAttributes
from recsys.recommend.text_column import TextColumn
from recsys.recommend.tuning import head_mask

EVENT_WEIGHTS = {"view": 1.0, "click": 1.0, "cart": 3.0, "purchase": 5.0}  # impressions teach nothing here
BROWSE_EVENTS = ("view", "click", "cart")
ATTRIBUTE_WEIGHT = 0.2  # an attribute edge counts less than one shared basket or session
# The personal backend's popularity debias and propagation weight, chosen on the instacart suite's validation split
# (each user's second-to-last order), never on its evaluated orders: docs/recommend.md, "Choosing the served
# configuration". The item-neighbour backends keep ``alpha`` (their lists have no repeats to protect).
PERSONAL_ALPHA = 1.0
PERSONAL_BETA = 0.2
# For you's slots not taken by repeat purchases go to score x 1 / (1 + times shown / FILL_EXPOSURE_SCALE): at 0.1 an
# item shown once to another shopper weighs 1/11, so unshown neighbours win (chosen on validation, same section).
FILL_EXPOSURE_SCALE = 0.1
HEAD_FRACTION = 0.2  # the head: the most interacted 20% of the items that have interactions
ATTRIBUTE_KEYS = {
    "type": ("articleType", "type", "product_type"),
    "colour": ("baseColour", "colour", "color"),
    "brand": ("brand",),
}


@dataclass(frozen=True)
class ItemRow:
    item_id: int
    title: str
    category: str
    brand: str
    attributes: dict


@dataclass(frozen=True)
class EventRow:
    shopper: str  # the account name, else the browser's anonymous id
    session_id: str
    item_id: int
    event: str
    order_id: str = ""


def shopper_keys(user_ids: Sequence[str], session_ids: Sequence[str]) -> list[str]:
    """The shopper of each event, as a request reads them (account + browser id): the account, else the account
    that browser signed in as at some point, else the browser id. A browser's anonymous events are its account's."""
    account = {b: u for u, b in zip(user_ids, session_ids) if u and b}
    return [u or account.get(b) or b or "" for u, b in zip(user_ids, session_ids)]


def item_attributes(row: ItemRow) -> dict[str, str]:
    """{"type", "brand", "colour", "category"} -> value, for the values the item has."""
    attrs = row.attributes or {}
    out = {}
    for group, keys in ATTRIBUTE_KEYS.items():
        value = next((str(attrs[key]).strip() for key in keys if str(attrs.get(key) or "").strip()), "")
        if value:
            out[group] = value
    levels = [part.strip() for part in (row.category or "").split(">") if part.strip()]
    if levels:
        out["category"] = " > ".join(levels)
        out.setdefault("type", levels[-1])
    if (row.brand or "").strip():  # the column wins over an attribute of the same name
        out["brand"] = row.brand.strip()
    return out


def _incidence(rows: np.ndarray, keys: Sequence[str], n_items: int) -> sparse.csr_matrix:
    """items x distinct keys, 1 where an item (row index) carries the key."""
    if not len(keys):
        return sparse.csr_matrix((n_items, 0))
    names, column = np.unique(np.asarray(keys, dtype=object).astype(str), return_inverse=True)
    return binary(sparse.csr_matrix((np.ones(len(rows)), (rows, column)), shape=(n_items, names.size)))


@dataclass
class ServedModel:
    item_ids: np.ndarray  # sorted catalog item ids; position = index in every matrix
    titles: TextColumn
    attributes: ItemAttributes  # type, brand, colour, category per item, as columns
    shoppers: dict[str, int]  # shopper -> row of ``interactions``
    interactions: sparse.csr_matrix  # shoppers x items, event-weighted
    personal: HypergraphRecommender
    bought: HypergraphRecommender
    viewed: HypergraphRecommender
    co_bought: sparse.csr_matrix  # items x items: orders holding both
    co_viewed: sparse.csr_matrix  # items x items: sessions that browsed both
    events: int  # how many events it was fitted on
    ranker: basket_ranker.BasketRanker | None = None  # the learned For you re-ranker (None: the hand blend)
    allocation: dict[str, Swap] = field(default_factory=dict)  # shopper -> their list's exposure swap
    exposure: ExposureLedger = field(init=False)  # what this model's personal lists have shown, across shoppers
    _type_groups: list[np.ndarray] | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.exposure = ExposureLedger(self.n_items, FILL_EXPOSURE_SCALE)

    @property
    def n_items(self) -> int:
        return int(self.item_ids.size)

    @property
    def popularity(self) -> np.ndarray:
        return self.personal.popularity

    @property
    def is_tail(self) -> np.ndarray:
        return ~head_mask(self.popularity, HEAD_FRACTION)

    def positions(self, item_ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """(index of each id, whether the model holds it): the index is meaningless where it does not."""
        ids = np.asarray(list(item_ids), dtype=np.int64)
        if not self.n_items:
            return np.zeros(ids.size, dtype=np.int64), np.zeros(ids.size, dtype=bool)
        pos = np.minimum(np.searchsorted(self.item_ids, ids), self.n_items - 1)
        return pos, self.item_ids[pos] == ids

    def index_of(self, item_ids: Iterable[int]) -> list[int]:
        """Indices of the ids that are in the model (unknown ids are left out)."""
        pos, known = self.positions(item_ids)
        return [int(p) for p in pos[known]]

    def swap_for(self, shoppers: Iterable[str]) -> Swap | None:
        """The exposure allocation's swap for the first of ``shoppers`` (account, browser id) it holds."""
        return next((self.allocation[s] for s in shoppers if s and s in self.allocation), None)

    def type_groups(self) -> list[np.ndarray]:
        """The item indices of each article type, ascending (items without a type form one group); made once."""
        if self._type_groups is None:
            codes = self.attributes.codes["type"]
            order = np.argsort(codes, kind="stable")
            self._type_groups = np.split(order, np.flatnonzero(np.diff(codes[order])) + 1) if order.size else []
        return self._type_groups

    def shared_attributes(self, a: int, b: int) -> list[str]:
        """Attribute values items ``a`` and ``b`` share, most specific first (type, brand, colour)."""
        codes = self.attributes.codes
        shared = [g for g in ("type", "brand", "colour") if codes[g][a] >= 0 and codes[g][a] == codes[g][b]]
        return [self.attributes.values[g][codes[g][a]] for g in shared]


def fit_served(
    items: Sequence[ItemRow],
    events: Sequence[EventRow],
    alpha: float = 0.5,
    personal_alpha: float = PERSONAL_ALPHA,
    personal_beta: float = PERSONAL_BETA,
    ranker: bool = False,
    shopper_events: int = 200,
    novelty_price: float = 0.0,
    k: int = 20,
    target_orders: int = basket_ranker.TARGET_ORDERS,
) -> ServedModel:
    """Fit every backend the app serves on the catalog ``items`` and their ``events`` (unknown items dropped, events
    in time order) and, with ``ranker``, the learned For you re-ranker (``basket_ranker``): trained on each shopper's
    last order from their newest ``shopper_events`` events before it, over a model refitted without those orders.
    With the ranker and a ``novelty_price``, every known shopper's top ``k`` is allocated (``allocate_exposure``)."""
    model = _fit_backends(items, events, alpha, personal_alpha, personal_beta)
    if ranker:
        start = time.perf_counter()
        x, y = ranker_training_rows(
            model, items, events, alpha, personal_alpha, personal_beta, shopper_events, target_orders
        )
        booster = basket_ranker.fit_booster(x, y)
        if booster is not None:
            stats = basket_ranker.item_stats(model)
            model.ranker = basket_ranker.BasketRanker(booster, stats, time.perf_counter() - start, len(y))
            model.allocation = allocate_exposure(model, events, shopper_events, novelty_price, k)
    return model


def shopper_histories(
    model: ServedModel, events: Sequence[EventRow], shopper_events: int
) -> tuple[dict[str, dict[int, float]], dict[str, float]]:
    """Per shopper, as the service reads them: index -> weight from their newest ``shopper_events`` interest events
    (oldest first, an item placed at its latest event), and their items per order (purchases over distinct orders;
    the mean over shoppers with orders for one without)."""
    pos, known = model.positions(e.item_id for e in events)
    seen: dict[str, list[tuple[int, EventRow]]] = {}
    for p, e in enumerate(events):
        if e.event in EVENT_WEIGHTS:  # the window counts every interest event, as the service's read does
            seen.setdefault(e.shopper, []).append((int(pos[p]) if known[p] else -1, e))
    weights: dict[str, dict[int, float]] = {}
    sizes: dict[str, float] = {}
    for shopper, indexed in seen.items():
        mine: dict[int, float] = {}
        for index, e in indexed[-shopper_events:]:
            if index >= 0:
                mine[index] = mine.pop(index, 0.0) + EVENT_WEIGHTS[e.event]
        if not mine:
            continue
        rows = [e for index, e in indexed if index >= 0]
        weights[shopper] = mine
        orders = {e.order_id for e in rows if e.event == "purchase" and e.order_id}
        if orders:
            sizes[shopper] = sum(e.event == "purchase" and bool(e.order_id) for e in rows) / len(orders)
    mean = float(np.mean(list(sizes.values()))) if sizes else 1.0
    return weights, {s: sizes.get(s, mean) for s in weights}


def allocate_exposure(
    model: ServedModel, events: Sequence[EventRow], shopper_events: int, price: float, k: int = 20
) -> dict[str, Swap]:
    """The exposure allocation (``allocation.allocate``) of every known shopper's learned top ``k`` at ``price``
    (expected recall a list may give up for one product no other list shows); {} without a ranker or price."""
    if model.ranker is None or price <= 0:
        return {}
    weights, sizes = shopper_histories(model, events, shopper_events)
    names = sorted(weights)
    ranked = dict(zip(names, model.ranker.ranked(model, [weights[s] for s in names])))
    return allocate(ranked, sizes, k, price)


def ranker_training_rows(
    model: ServedModel,
    items: Sequence[ItemRow],
    events: Sequence[EventRow],
    alpha: float = 0.5,
    personal_alpha: float = PERSONAL_ALPHA,
    personal_beta: float = PERSONAL_BETA,
    shopper_events: int = 200,
    target_orders: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """The ranker's (features, labels): each shopper's last order the target, their newest ``shopper_events`` events
    before it the history, features from the backends refitted without any event from a target order on; then, for
    ``target_orders`` > 1, the same one order earlier on the events before those targets, and so on. Empty when
    fewer than ``basket_ranker.MIN_TRAIN_SHOPPERS`` shoppers have a target order and a history."""
    pos, known = model.positions(e.item_id for e in events)
    chosen = [p for p, e in enumerate(events) if known[p] and e.event in EVENT_WEIGHTS]
    kept = [events[p] for p in chosen]
    indices = pos[chosen].tolist()
    xs, ys = [], []
    for _ in range(max(1, target_orders)):
        split = basket_ranker.training_split(
            [e.shopper for e in kept],
            indices,
            [e.event for e in kept],
            [e.order_id for e in kept],
            EVENT_WEIGHTS,
            shopper_events,
        )
        if len(split.targets) < basket_ranker.MIN_TRAIN_SHOPPERS:
            break
        kept = [e for e, keep in zip(kept, split.keep) if keep]  # the events before the targets
        indices = [i for i, keep in zip(indices, split.keep) if keep]
        features = _fit_backends(items, kept, alpha, personal_alpha, personal_beta)
        x, y = basket_ranker.training_rows(features, split.history, split.targets)
        xs.append(x)
        ys.append(y)
    if not xs:
        return np.zeros((0, len(basket_ranker.FEATURES)), dtype=np.float32), np.zeros(0, dtype=np.float32)
    return np.concatenate(xs), np.concatenate(ys)


def _fit_backends(
    items: Sequence[ItemRow],
    events: Sequence[EventRow],
    alpha: float,
    personal_alpha: float,
    personal_beta: float,
) -> ServedModel:
    order = sorted(items, key=lambda r: r.item_id)
    item_ids = np.array([r.item_id for r in order], dtype=np.int64)
    n = item_ids.size
    position = {int(i): p for p, i in enumerate(item_ids)}
    kept = [e for e in events if e.item_id in position and e.event in EVENT_WEIGHTS]
    shoppers = {s: i for i, s in enumerate(sorted({e.shopper for e in kept}))}
    cols = np.array([position[e.item_id] for e in kept], dtype=np.int64)
    weights = np.array([EVENT_WEIGHTS[e.event] for e in kept])
    rows = np.array([shoppers[e.shopper] for e in kept], dtype=np.int64)
    interactions = sparse.csr_matrix((weights, (rows, cols)), shape=(len(shoppers), n))
    interactions.sum_duplicates()

    attributes = ItemAttributes.from_dicts(item_attributes(r) for r in order)
    groups = {group: _group_incidence(codes, n) for group, codes in attributes.codes.items()}
    bought_events = [(c, e.order_id) for c, e in zip(cols, kept) if e.event == "purchase" and e.order_id]
    viewed_events = [(c, e.session_id) for c, e in zip(cols, kept) if e.event in BROWSE_EVENTS and e.session_id]
    baskets = _incidence(np.array([c for c, _ in bought_events], dtype=np.int64), [o for _, o in bought_events], n)
    sessions = _incidence(np.array([c for c, _ in viewed_events], dtype=np.int64), [s for _, s in viewed_events], n)

    low = dict.fromkeys(groups, ATTRIBUTE_WEIGHT)
    personal = HypergraphRecommender(
        alpha=personal_alpha, beta=personal_beta, edge_weights={**low, "basket": 1.0, "session": 1.0}
    )
    personal.fit(interactions, {**groups, "basket": baskets, "session": sessions})
    bought = HypergraphRecommender(alpha=alpha, edge_weights={**low, "basket": 1.0}, user_edges=False)
    bought.fit(interactions, {**groups, "basket": baskets})
    viewed = HypergraphRecommender(alpha=alpha, edge_weights={**low, "session": 1.0}, user_edges=False)
    viewed.fit(interactions, {**groups, "session": sessions})
    return ServedModel(
        item_ids=item_ids,
        titles=TextColumn.from_strings(r.title for r in order),
        attributes=attributes,
        shoppers=shoppers,
        interactions=interactions,
        personal=personal,
        bought=bought,
        viewed=viewed,
        co_bought=_co_counts(baskets),
        co_viewed=_co_counts(sessions),
        events=len(kept),
    )


def _group_incidence(codes: np.ndarray, n_items: int) -> sparse.csr_matrix:
    """items x a group's values, 1 where an item has that value (codes from ``ItemAttributes``; -1: none)."""
    rows = np.flatnonzero(codes >= 0)
    width = int(codes.max()) + 1 if rows.size else 0
    return sparse.csr_matrix((np.ones(rows.size), (rows, codes[rows])), shape=(n_items, width))


def _co_counts(incidence: sparse.csr_matrix) -> sparse.csr_matrix:
    counts = (incidence @ incidence.T).tocsr()
    counts.setdiag(0)
    counts.eliminate_zeros()
    return counts
