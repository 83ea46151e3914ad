"""Repository functions over the catalog: plain functions taking a Session, returning ORM rows or dataclasses.

The service owns sessions and transactions; these functions never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from recsys.catalog.images import CheckedImage, ImageStore
from recsys.catalog.models import (
    EVENT_TYPES,
    EmbeddingGeneration,
    Interaction,
    Item,
    ItemEmbedding,
    ItemImage,
    Merchant,
    QueryLog,
    Review,
)
from recsys.catalog.validation import ItemDraft, ReviewDraft

DEFAULT_MERCHANT = "default"
EMBEDDING_READ_BATCH = 10_000  # rows per streamed read of stored vectors (~36 MB of fused vectors)


def get_or_create_merchant(session: Session, name: str = DEFAULT_MERCHANT) -> Merchant:
    merchant = session.scalar(select(Merchant).where(Merchant.name == name))
    if merchant is None:
        merchant = Merchant(name=name)
        session.add(merchant)
        session.flush()
    return merchant


def add_item(
    session: Session, merchant: Merchant, draft: ItemDraft, images: Sequence[CheckedImage], store: ImageStore
) -> Item:
    item = Item(
        merchant_id=merchant.id,
        external_id=draft.external_id,
        title=draft.title,
        description=draft.description,
        brand=draft.brand,
        category=draft.category,
        attributes=draft.attributes,
        price=draft.price,
        currency=draft.currency,
    )
    session.add(item)
    if not item.external_id:
        session.flush()  # the id names the item; with an id given, the batch's one flush inserts them all at once
        # The merchant gave no id: make one, stepping past an id a bulk file may already have used.
        candidate, n = f"item-{item.id}", 1
        while session.scalar(select(Item.id).where(Item.merchant_id == merchant.id, Item.external_id == candidate)):
            n += 1
            candidate = f"item-{item.id}-{n}"
        item.external_id = candidate
    attach_images(item, images, store)
    for review in draft.reviews:
        item.reviews.append(Review(rating=review.rating, title=review.title, text=review.text, source=review.source))
    return item


def attach_images(item: Item, images: Sequence[CheckedImage], store: ImageStore) -> None:
    start = len(item.images)
    for offset, image in enumerate(images):
        rel = store.put(image)
        item.images.append(
            ItemImage(sha256=image.sha256, path=rel, width=image.width, height=image.height, position=start + offset)
        )


def replace_images(item: Item, images: Sequence[CheckedImage], store: ImageStore) -> bool:
    """Make the item's images exactly ``images``, in order, keeping the rows of those it already has; returns
    whether anything changed. Dropped rows go (their files stay for ``image_gc``: other items may share them)."""
    if [img.sha256 for img in item.images] == [img.sha256 for img in images]:
        return False
    kept: dict[str, ItemImage] = {}
    for old in item.images:
        kept.setdefault(old.sha256, old)
    rows = []
    for position, image in enumerate(images):
        row = kept.pop(image.sha256, None) or ItemImage(
            sha256=image.sha256, path=store.put(image), width=image.width, height=image.height
        )
        row.position = position
        rows.append(row)
    item.images = rows
    return True


def add_missing_reviews(item: Item, reviews: Sequence[ReviewDraft]) -> int:
    """Add the reviews the item does not have yet (same rating, title, text and source); returns how many."""
    if not reviews:
        return 0  # without this the item's reviews would be loaded for nothing
    have = {(r.rating, r.title, r.text, r.source) for r in item.reviews}
    added = 0
    for review in reviews:
        key = (review.rating, review.title, review.text, review.source)
        if key not in have:
            have.add(key)
            item.reviews.append(
                Review(rating=review.rating, title=review.title, text=review.text, source=review.source)
            )
            added += 1
    return added


def update_item_fields(item: Item, draft: ItemDraft) -> bool:
    """Copy a draft's fields onto an item; return whether anything changed."""
    changed = False
    for name in ("title", "description", "brand", "category", "attributes", "price", "currency"):
        value = getattr(draft, name)
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed = True
    return changed


def get_item(session: Session, item_id: int) -> Item | None:
    return session.scalar(
        select(Item).where(Item.id == item_id).options(selectinload(Item.images), selectinload(Item.reviews))
    )


def get_items(session: Session, item_ids: Iterable[int], *, with_reviews: bool = True) -> dict[int, Item]:
    ids = list(item_ids)
    if not ids:
        return {}
    loads = [selectinload(Item.images)] + ([selectinload(Item.reviews)] if with_reviews else [])
    rows = session.scalars(select(Item).where(Item.id.in_(ids)).options(*loads))
    return {row.id: row for row in rows}


def find_by_external_ids(session: Session, merchant: Merchant, external_ids: Sequence[str]) -> dict[str, Item]:
    found: dict[str, Item] = {}
    for start in range(0, len(external_ids), 500):  # stay under bound-parameter limits
        chunk = list(external_ids[start : start + 500])
        rows = session.scalars(
            select(Item)
            .where(Item.merchant_id == merchant.id, Item.external_id.in_(chunk))
            .options(selectinload(Item.images))
        )
        found.update({row.external_id: row for row in rows})
    return found


@dataclass
class Page:
    items: list[Item]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def browse(
    session: Session,
    *,
    page: int = 1,
    page_size: int = 24,
    text: str = "",
    category: str = "",
    merchant_name: str = "",
    min_price: float | None = None,
    max_price: float | None = None,
) -> Page:
    query = select(Item)
    if text:
        like = f"%{text.strip()}%"
        query = query.where(or_(Item.title.ilike(like), Item.description.ilike(like)))
    if category:
        query = query.where(Item.category.ilike(f"%{category}%"))
    if merchant_name:
        query = query.join(Merchant).where(Merchant.name == merchant_name)
    if min_price is not None:
        query = query.where(Item.price >= min_price)
    if max_price is not None:
        query = query.where(Item.price <= max_price)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(max(1, page), max(1, -(-total // page_size)))  # clamp: "Next" past the end stays on the last page
    rows = session.scalars(
        query.order_by(Item.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
        .options(selectinload(Item.images))
    ).all()
    return Page(items=list(rows), total=total, page=page, page_size=page_size)


def category_counts(session: Session) -> list[tuple[str, int]]:
    rows = session.execute(
        select(Item.category, func.count()).group_by(Item.category).order_by(func.count().desc())
    ).all()
    return [(c, n) for c, n in rows]


def stats(session: Session) -> dict[str, Any]:
    count = lambda model: session.scalar(select(func.count()).select_from(model)) or 0  # noqa: E731
    return {
        "merchants": count(Merchant),
        "items": count(Item),
        "images": count(ItemImage),
        "reviews": count(Review),
        "interactions": count(Interaction),
        "queries": count(QueryLog),
        "categories": session.scalar(select(func.count(func.distinct(Item.category)))) or 0,
    }


# --- behaviour logs -------------------------------------------------------------------------------


def referenced_image_paths(session: Session) -> set[str]:
    """Store-relative paths of every image some item still has."""
    return set(session.scalars(select(ItemImage.path).distinct()))


def log_events(session: Session, events: Iterable[dict[str, Any]]) -> int:
    rows = []
    for event in events:
        if event["event"] not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event['event']!r}")
        rows.append(Interaction(**event))
    session.add_all(rows)
    return len(rows)


def log_query(session: Session, **fields: Any) -> None:
    session.add(QueryLog(**fields))


# --- embeddings -----------------------------------------------------------------------------------


def existing_item_ids(session: Session, item_ids: Sequence[int]) -> list[int]:
    """Those of ``item_ids`` that are still in the catalog."""
    wanted = list(map(int, item_ids))
    return list(session.scalars(select(Item.id).where(Item.id.in_(wanted)))) if wanted else []


def save_embeddings(
    session: Session, model_version: str, route: str, item_ids: Sequence[int], vectors: np.ndarray
) -> None:
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    generation = next_embedding_generation(session)
    session.execute(
        delete(ItemEmbedding).where(
            ItemEmbedding.model_version == model_version,
            ItemEmbedding.route == route,
            ItemEmbedding.item_id.in_(list(map(int, item_ids))),
        )
    )
    session.add_all(
        ItemEmbedding(
            item_id=int(i),
            model_version=model_version,
            route=route,
            dim=vectors.shape[1],
            vector=v.tobytes(),
            generation=generation,
        )
        for i, v in zip(item_ids, vectors)
    )


def embedding_generation(session: Session) -> int:
    """The newest committed generation of stored vectors (0 before any was written)."""
    return int(session.scalar(select(EmbeddingGeneration.value).where(EmbeddingGeneration.id == 1)) or 0)


def catalog_identity(session: Session) -> str:
    """This database's own id (made by migration 0005), saved with every copy of its vectors."""
    return str(session.scalar(select(EmbeddingGeneration.catalog_id).where(EmbeddingGeneration.id == 1)) or "")


def stamp_item_generation(session: Session, _flush_context: Any = None, _instances: Any = None) -> None:
    """Before a flush (a ``before_flush`` listener on the catalog's sessions): stamp the items it inserts or changes
    with the next generation, so a saved copy of the item table finds them (``Item.generation``). Taken per flush
    that writes items, under the same lock as the vectors' (commit order = generation order)."""
    written = [obj for obj in session.new if isinstance(obj, Item)]
    written += [
        obj for obj in session.dirty if isinstance(obj, Item) and session.is_modified(obj, include_collections=False)
    ]
    if written:
        generation = next_embedding_generation(session)
        for item in written:
            item.generation = generation


def next_embedding_generation(session: Session) -> int:
    """Take the next generation for the vectors this transaction writes (serialised with other writers until it
    commits: see ``EmbeddingGeneration``)."""
    bumped = session.execute(
        update(EmbeddingGeneration).where(EmbeddingGeneration.id == 1).values(value=EmbeddingGeneration.value + 1)
    )
    if not getattr(bumped, "rowcount", 1):  # a database whose counter row was lost: start it again
        # A plain insert, not session.add + flush: this also runs inside a flush (``stamp_item_generation``).
        session.execute(insert(EmbeddingGeneration).values(id=1, value=1, catalog_id=uuid.uuid4().hex))
    return embedding_generation(session)


def embedding_ids_after(session: Session, model_version: str, route: str, generation: int) -> np.ndarray:
    """Ids of the items whose vectors of one version and route were written after ``generation`` (int64, sorted)."""
    where = (ItemEmbedding.model_version == model_version, ItemEmbedding.route == route)
    found = session.scalars(select(ItemEmbedding.item_id).where(*where, ItemEmbedding.generation > generation))
    return np.unique(np.fromiter(found, dtype=np.int64))


def count_embeddings(session: Session, model_version: str, route: str) -> int:
    """Rows stored for one version and route (counted over the generation index, not the vectors)."""
    where = (ItemEmbedding.model_version == model_version, ItemEmbedding.route == route)
    return int(session.scalar(select(func.count()).select_from(ItemEmbedding).where(*where)) or 0)


def drop_other_versions(session: Session, model_version: str, item_ids: Sequence[int]) -> None:
    """Delete these items' vectors of every version but ``model_version``: their content changed, so a later
    switch (or rollback) to another version must re-encode them instead of serving stale vectors."""
    session.execute(
        delete(ItemEmbedding).where(
            ItemEmbedding.model_version != model_version, ItemEmbedding.item_id.in_(list(map(int, item_ids)))
        )
    )


def load_embeddings(session: Session, model_version: str, route: str) -> tuple[np.ndarray, np.ndarray]:
    """All stored vectors of one route: (item_ids int64 [n], vectors float32 [n, d]), sorted by item id."""
    parts = list(iter_embeddings(session, model_version, route))
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def iter_embeddings(
    session: Session,
    model_version: str,
    route: str,
    batch: int | None = None,
    after_generation: int | None = None,
    ordered: bool = True,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One route's stored vectors in item id order, ``batch`` rows at a time: (ids int64 [b], vectors float32 [b, d]).

    Streamed (``yield_per``: a server-side cursor where the driver has one) so a reader can copy a million vectors
    into its own array without first holding them all as row tuples and again as one joined buffer.
    ``after_generation``: only the rows written after that generation. ``ordered=False`` for readers that place
    each row by its id: the rows then come in index order, without a sort of every vector (SQLite sorts them in a
    temporary b-tree when the (version, route) index serves the filter: 1.9 -> 3.3 s a route at 1M, warm cache)."""
    where = [ItemEmbedding.model_version == model_version, ItemEmbedding.route == route]
    if after_generation is not None:
        where.append(ItemEmbedding.generation > after_generation)
    query = select(ItemEmbedding.item_id, ItemEmbedding.dim, ItemEmbedding.vector).where(*where)
    if ordered:
        query = query.order_by(ItemEmbedding.item_id)
    result = session.execute(query.execution_options(yield_per=batch or EMBEDDING_READ_BATCH))
    for rows in result.partitions():
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vectors = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(len(rows), rows[0][1])
        yield ids, vectors.astype(np.float32)


def items_missing_embeddings(session: Session, model_version: str, route: str) -> list[int]:
    # Every item has a row when the counts match (a row needs its item, one per item): two index counts instead of
    # an anti-join over the catalog (5 s at a million items) on every restart.
    if count_embeddings(session, model_version, route) == session.scalar(select(func.count()).select_from(Item)):
        return []
    have = select(ItemEmbedding.item_id).where(
        ItemEmbedding.model_version == model_version, ItemEmbedding.route == route
    )
    return list(session.scalars(select(Item.id).where(Item.id.not_in(have)).order_by(Item.id)))


# --- imported events ------------------------------------------------------------------------------


def item_ids_by_external_id(
    session: Session, external_ids: Iterable[str], merchant_name: str | None = None
) -> dict[str, list[int]]:
    """external id -> ids of the items that have it: of one merchant (at most one each), or of every merchant
    (several when merchants share an id)."""
    wanted = sorted(set(external_ids))
    found: dict[str, list[int]] = {}
    for start in range(0, len(wanted), 500):  # stay under bound-parameter limits
        query = select(Item.external_id, Item.id).where(Item.external_id.in_(wanted[start : start + 500]))
        if merchant_name is not None:
            query = query.join(Merchant).where(Merchant.name == merchant_name)
        for external_id, item_id in session.execute(query.order_by(Item.id)):
            found.setdefault(external_id, []).append(item_id)
    return found


def merchant_exists(session: Session, name: str) -> bool:
    return session.scalar(select(Merchant.id).where(Merchant.name == name)) is not None


def logged_order_ids(session: Session, order_ids: Iterable[str]) -> set[str]:
    """Those of ``order_ids`` that some logged event already carries."""
    wanted = sorted(set(order_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            str(o) for o in session.scalars(select(Interaction.order_id).where(Interaction.order_id.in_(chunk)))
        )
    return found


def orderless_events_of(session: Session, user_ids: Iterable[str]) -> list[tuple[str, int, str, Any]]:
    """(user id, item id, event, time) of the logged events without an order of these users."""
    wanted = sorted(set(user_ids))
    rows: list[tuple[str, int, str, Any]] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows.extend(
            (r[0], r[1], r[2], r[3])
            for r in session.execute(
                select(Interaction.user_id, Interaction.item_id, Interaction.event, Interaction.created_at).where(
                    Interaction.user_id.in_(chunk), Interaction.order_id.is_(None)
                )
            )
        )
    return rows


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Bulk-insert checked event rows (one executemany, no ORM objects: imports run to 100,000s of rows)."""
    for row in rows:
        if row["event"] not in EVENT_TYPES:
            raise ValueError(f"unknown event type {row['event']!r}")
    if rows:
        session.execute(insert(Interaction), list(rows))
    return len(rows)
