"""The item table and its BM25 base saved beside the vector index, so a restart reads only the items written since.

At a million items a restart spent ~50 s re-deriving what it had derived before: every item row through SQLAlchemy
and the table's columns (24 s on 2 cores), every text tokenized into BM25 (18 s), the typo vocabulary counted over
every text (10 s). A complete build saves the table's catalog columns, the BM25 base segment's term counts and the
vocabulary's word counts here, with the generation the table was read at (``Item.generation``: every write of an
item row is stamped with the catalog's generation counter, ``repository.stamp_item_generation``). A restart loads
them, reads the ids of the items in the catalog (a deleted item drops out) and the rows written after that
generation (spliced into the table, and tombstoned and re-added in BM25 as a live edit is: ``table_splice``,
``SegmentedBM25.edited``), and reads the review, event and image totals afresh (aggregates over those rows, which
change with every click; ``table.with_totals``).

A cache of the database, never trusted over it: another database's copy (``catalog_id``), a generation newer than
the catalog's, another stemmer or segmenter, or more than ``PATCH_SHARE`` of the items written since means a full
read. And a sample of the unchanged rows is read and derived again, its columns and term counts compared with the
copy, so a change of the derivation (a new attribute key, a stemmer upgrade) or a write that bypassed the stamp is
caught rather than served. Layout in ``directory`` (``store.save_directory``: atomic, checked by size)::

    ids.npy                                   item ids, ascending (the rows' order)
    <column>.text, <column>.offsets.npy       text columns (titles, descriptions, categories): one UTF-8 text
    <column>.codes.npy, <column>.values.*     value columns (leaf, gender, colour): int32 codes, distinct values
    price.npy, age_days.npy                   float32 (ages as of the manifest's ``read_at``)
    tf.data.npy, tf.indices.npy, tf.indptr.npy, terms.*   the BM25 base segment's term counts (CSR, rows = ids)
    words.*, words.counts.npy                 the typo vocabulary's words and their document frequencies
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys.catalog import reads
from recsys.catalog.store import CatalogStore
from recsys.index.lexical_segment import LexicalSegment
from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.store import load_directory, save_directory
from recsys.index.tokenize import Tokenizer
from recsys.index.vocabulary import Vocabulary
from recsys.search.route_snapshot import Generation
from recsys.search.table import ItemTable, catalog_columns, lexical_texts, load_item_table, with_totals
from recsys.search.table_splice import splice

log = logging.getLogger(__name__)
KIND = "item-table"
LAYOUT = 1  # bump when the files change meaning
PATCH_SHARE = 0.2  # more items written since the copy than this share: read the table in full (as fast, simpler)
RESAVE_SHARE = 0.1  # re-save after a restart that patched more than this share (later restarts read less)
SAMPLE_ROWS = 64  # unchanged rows derived again and compared with the copy at each restart
TEXT_COLUMNS = ("titles", "descriptions", "categories")
VALUE_COLUMNS = ("leaf", "gender", "colour")
NUMBER_COLUMNS = ("price", "age_days")


@dataclass(frozen=True)
class TableRead:
    """An item table and, when it came from the saved copy, its BM25 index (None: build it from the table)."""

    table: ItemTable
    lexical: SegmentedBM25 | None
    generation: Generation  # every item row written at or before it is in ``table``
    read_at: datetime  # the ``now`` of the table's ages
    patched: int  # rows read on top of the saved copy; -1: read in full from the catalog

    @property
    def worth_saving(self) -> bool:
        return self.patched < 0 or self.patched > RESAVE_SHARE * max(1, len(self.table))


def read_table(
    catalog: CatalogStore,
    generation: Generation,
    directory: Path | None = None,
    now: datetime | None = None,
) -> TableRead:
    """The item table, from the copy saved in ``directory`` plus the items written since, else read in full.
    ``generation`` must be read (``current_generation``) before this: every item written at or before it is then
    in the copy or read."""
    now = now or datetime.now(UTC)
    if directory is not None:
        saved = _load(directory, generation.catalog_id, Tokenizer(), now)
        if saved is not None:
            restored = _restored(catalog, saved, generation, now)
            if restored is not None:
                return restored
    with catalog.sessions() as session:
        table = load_item_table(session, now)
    return TableRead(table, None, generation, now, -1)


def save_table(directory: Path, read: TableRead) -> None:
    """Write ``read``'s table and BM25 index (one base segment) as the saved copy, replacing the previous one."""
    if read.lexical is None:
        raise ValueError("saving an item table needs its segmented BM25 index")
    words = read.lexical.vocabulary().frequency  # before the merge: a folded segment would count them again
    base = read.lexical.merged().segments[0]
    table = read.table
    if not np.array_equal(base.ids, table.ids):
        log.warning("the BM25 index and the item table hold different items: not saved")
        return

    def write(folder: Path) -> None:
        np.save(folder / "ids.npy", table.ids)
        for name in TEXT_COLUMNS:
            _save_strings(folder, name, getattr(table, name))
        for name in VALUE_COLUMNS:
            values, codes = np.unique(np.asarray(getattr(table, name), dtype=object).astype(str), return_inverse=True)
            np.save(folder / f"{name}.codes.npy", codes.astype(np.int32))
            _save_strings(folder, f"{name}.values", values.tolist())
        for name in NUMBER_COLUMNS:
            np.save(folder / f"{name}.npy", np.asarray(getattr(table, name), np.float32))
        tf = base.tf.tocsr()
        np.save(folder / "tf.data.npy", tf.data)
        np.save(folder / "tf.indices.npy", tf.indices)
        np.save(folder / "tf.indptr.npy", tf.indptr)
        _save_strings(folder, "terms", base.term_list)
        _save_strings(folder, "words", list(words))
        np.save(folder / "words.counts.npy", np.fromiter(words.values(), np.int64, count=len(words)))

    tokenizer = read.lexical.tokenizer
    manifest = {
        "kind": KIND,
        "layout": LAYOUT,
        "count": len(table),
        "read_at": read.read_at.isoformat(),
        "stemmer": tokenizer.stemmer,
        "segmenter": tokenizer.segmenter,
        **read.generation.manifest(),
    }
    save_directory(directory, write, manifest)
    log.info("saved the item table of %d items (%s) to %s", len(table), read.generation, directory)


@dataclass(frozen=True)
class _Saved:
    ids: np.ndarray
    columns: dict[str, Any]  # the catalog columns of ``ItemTable``, ages as of now
    segment: LexicalSegment
    tokenizer: Tokenizer
    generation: int


def _load(directory: Path, catalog_id: str, tokenizer: Tokenizer, now: datetime) -> _Saved | None:
    expect = {
        "kind": KIND,
        "layout": LAYOUT,
        "catalog": catalog_id,
        "stemmer": tokenizer.stemmer,
        "segmenter": tokenizer.segmenter,
    }
    found = load_directory(directory, expect=expect, verify="size")
    if found is None:
        return None
    folder, manifest = found
    try:
        ids = np.load(folder / "ids.npy")
        columns: dict[str, Any] = {name: _load_strings(folder, name) for name in TEXT_COLUMNS}
        for name in VALUE_COLUMNS:
            values = np.array(_load_strings(folder, f"{name}.values"), dtype=object)
            columns[name] = values[np.load(folder / f"{name}.codes.npy")] if len(values) else np.array([], object)
        for name in NUMBER_COLUMNS:
            columns[name] = np.load(folder / f"{name}.npy")
        elapsed = (now - datetime.fromisoformat(manifest["read_at"])).total_seconds() / 86400
        columns["age_days"] = (columns["age_days"] + np.float32(max(0.0, elapsed))).astype(np.float32)
        terms = _load_strings(folder, "terms")
        tf = sp.csr_matrix(
            (np.load(folder / "tf.data.npy"), np.load(folder / "tf.indices.npy"), np.load(folder / "tf.indptr.npy")),
            shape=(len(ids), len(terms)),
        )
        words = Counter(dict(zip(_load_strings(folder, "words"), np.load(folder / "words.counts.npy").tolist())))
    except (OSError, ValueError, KeyError, IndexError) as exc:
        log.warning("saved item table in %s is unreadable: %s", directory, exc)
        return None
    sizes = {len(columns[n]) for n in (*TEXT_COLUMNS, *VALUE_COLUMNS, *NUMBER_COLUMNS)}
    if sizes != {len(ids)} or len(ids) != manifest.get("count"):
        log.warning("saved item table in %s has columns of different lengths", directory)
        return None
    segment = LexicalSegment(ids, lexical_texts(columns), terms, tf, Vocabulary.from_counts(words))
    return _Saved(ids, columns, segment, tokenizer, int(manifest["generation"]))


def _restored(catalog: CatalogStore, saved: _Saved, generation: Generation, now: datetime) -> TableRead | None:
    """``saved`` with the items written since spliced in and the deleted ones dropped; None when it cannot be
    trusted (see the module's docstring)."""
    if saved.generation > generation.value:
        log.warning("saved item table is of generation %d, the catalog of %d", saved.generation, generation.value)
        return None
    with catalog.sessions() as session:
        live = np.asarray(reads.item_ids(session), np.int64)
        rows = reads.item_rows(session, written_after=saved.generation)
        if len(rows) > PATCH_SHARE * max(1, live.size):
            log.info("%d of %d items written since the saved item table: reading it in full", len(rows), live.size)
            return None
        changed = np.fromiter((r.id for r in rows), np.int64, count=len(rows))
        kept = saved.ids[np.isin(saved.ids, live) & ~np.isin(saved.ids, changed)]
        # Items in the catalog but neither saved nor stamped since (written by a plain insert): read them too.
        unseen = np.setdiff1d(live, np.union1d(kept, changed))
        if unseen.size:
            rows = sorted([*rows, *reads.item_rows(session, ids=unseen.tolist())], key=lambda r: r.id)
        sample = kept[np.linspace(0, kept.size - 1, min(SAMPLE_ROWS, kept.size)).astype(np.int64)]
        if not _matches(saved, reads.item_rows(session, ids=sample.tolist()), now):
            return None
        found = np.fromiter((r.id for r in rows), np.int64, count=len(rows))
        alive = np.isin(found, live)  # an item added after the ids were read waits for the next restart
        part_rows = [r for r, keep in zip(rows, alive.tolist()) if keep]
        part_ids = found[alive]
        part = catalog_columns(part_rows, now)
        removed = saved.ids[~np.isin(saved.ids, live)]
        ids, columns = splice(saved.ids, saved.columns, removed, part_ids, part)
        table = with_totals(session, ids, columns)
    lexical = SegmentedBM25([saved.segment], tokenizer=saved.tokenizer)
    lexical.warm()  # a restart is O(catalog) already; the edits below keep the parts while the mean length holds
    if part_ids.size or removed.size:
        lexical = lexical.edited(part_ids, lexical_texts(part), removed)
    patched = int(part_ids.size + removed.size)
    log.info(
        "item table from the saved copy (generation %d): %d rows re-read, %d dropped",
        saved.generation,
        part_ids.size,
        removed.size,
    )
    return TableRead(table, lexical, generation, now, patched)


def _matches(saved: _Saved, rows: list, now: datetime) -> bool:
    """Whether the saved copy holds what ``rows`` (unchanged items, read now) derive to: columns and term counts."""
    if not rows:
        return True
    fresh = catalog_columns(rows, now)
    ids = np.fromiter((r.id for r in rows), np.int64, count=len(rows))
    at = np.searchsorted(saved.ids, ids)
    for name in (*TEXT_COLUMNS, *VALUE_COLUMNS):
        column = saved.columns[name]
        if [column[i] for i in at.tolist()] != list(fresh[name]):
            log.warning("saved item table differs from the catalog in %s: reading it in full", name)
            return False
    price = saved.columns["price"][at]
    same_price = (price == fresh["price"]) | (np.isnan(price) & np.isnan(fresh["price"]))
    if not same_price.all() or not np.allclose(saved.columns["age_days"][at], fresh["age_days"], atol=0.01):
        log.warning("saved item table differs from the catalog in prices or ages: reading it in full")
        return False
    segment = saved.segment
    for row, text in zip(at.tolist(), lexical_texts(fresh)):
        counts = segment.tf[row]
        held = {segment.term_list[c]: int(n) for c, n in zip(counts.indices.tolist(), counts.data.tolist())}
        if held != Counter(saved.tokenizer(text)):
            log.warning("saved BM25 term counts differ from this tokenizer's: reading the item table in full")
            return False
    return True


def _save_strings(folder: Path, name: str, strings: Any) -> None:
    """Strings as one UTF-8 text plus character offsets: a million of them load in one decode and slices."""
    strings = [str(s) for s in strings]
    # Bytes, not write_text: text mode would translate newlines and the offsets would no longer match.
    (folder / f"{name}.text").write_bytes("".join(strings).encode("utf-8", "surrogatepass"))
    offsets = np.zeros(len(strings) + 1, np.int64)
    np.cumsum([len(s) for s in strings], out=offsets[1:])
    np.save(folder / f"{name}.offsets.npy", offsets)


def _load_strings(folder: Path, name: str) -> list[str]:
    text = (folder / f"{name}.text").read_bytes().decode("utf-8", "surrogatepass")
    offsets = np.load(folder / f"{name}.offsets.npy").tolist()
    if not offsets or offsets[-1] != len(text):
        raise ValueError(f"{name}: offsets do not match its text")
    return [text[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
