"""Fashion suite data: styles.csv + images.zip read, split into fit and evaluated items, texts per route.

Split rules (docs/evaluation.md): without a train dir, fit on the items that are not ``is_holdout(id)`` and
evaluate the held-out ones; with one, fit on its items minus every id of the data dir and evaluate the data
dir. Either way the evaluated set is capped by a deterministic hash sample, independent of file order and seed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recsys.encoders.content import ItemContent, clip_text, item_bert_text, item_clip_text
from recsys.evaluation.dataset import resolve_suite_dir
from recsys.splits import holdout_score, is_holdout
from recsys.training.attributes import Attributes, item_attributes
from recsys.training.pair_sources import CATALOG_VIEWS, view_texts

NAME = "fashion"
STYLES, IMAGES = "styles.csv", "images.zip"
FILES = (STYLES, IMAGES)
REQUIRED = ("id", "productDisplayName", "articleType")
OPTIONAL = ("gender", "masterCategory", "subCategory", "baseColour", "season", "year", "usage")
SAMPLE_SALT = "taillift-fashion-eval-sample"  # its own salt: the sample must not correlate with the holdout


@dataclass(frozen=True)
class FashionSplit:
    fit: pd.DataFrame  # rows the heads / baselines are fitted on
    evaluated: pd.DataFrame  # rows queried and ranked (after the sample cap)
    pool: int  # evaluable items before the cap
    images: dict[str, bytes]  # id -> JPEG bytes: evaluated rows, and fit rows when loaded with fit_images
    text: str  # the split, in words, for the report
    dropped_overlap: int  # train-dir items dropped because the data dir has the same id


def suite_dir(directory: Path | str) -> Path:
    return resolve_suite_dir(directory, NAME, STYLES)


def read_rows(directory: Path) -> pd.DataFrame:
    """Rows with a title and an image in the zip, ids as strings, sorted by id (no image bytes read)."""
    frame = pd.read_csv(directory / STYLES, dtype=str, keep_default_na=False, on_bad_lines="skip")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"{directory / STYLES}: missing columns {missing}")
    for column in OPTIONAL:
        frame[column] = frame[column] if column in frame.columns else ""
    frame = frame[list(REQUIRED + OPTIONAL)].apply(lambda c: c.str.strip())
    frame["year"] = frame["year"].str.removesuffix(".0")  # pandas-exported years such as "2011.0"
    frame = frame[(frame["id"] != "") & (frame["productDisplayName"] != "") & (frame["articleType"] != "")]
    frame = frame.drop_duplicates("id")
    with zipfile.ZipFile(directory / IMAGES) as archive:
        names = set(archive.namelist())
    frame = frame[[f"{i}.jpg" in names for i in frame["id"]]]
    return frame.sort_values("id", key=lambda s: s.map(_id_order)).reset_index(drop=True)


def read_images(directory: Path, ids: Iterable[str]) -> dict[str, bytes]:
    """JPEG bytes of ``ids`` only: the full set's 40k photos are ~100 MB that a few hundred sampled items do
    not need."""
    with zipfile.ZipFile(directory / IMAGES) as archive:
        return {i: archive.read(f"{i}.jpg") for i in ids}


def read(directory: Path) -> tuple[pd.DataFrame, dict[str, bytes]]:
    """``read_rows`` plus the image bytes of every row."""
    frame = read_rows(directory)
    return frame, read_images(directory, frame["id"])


def _id_order(key: str) -> tuple[int, int | str]:
    return (0, int(key)) if key.isdigit() else (1, key)


def sample(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Up to ``limit`` rows chosen by a salted hash of the id (0 = all), returned in id order."""
    if limit <= 0 or len(frame) <= limit:
        return frame
    scores = frame["id"].map(lambda i: holdout_score(i, SAMPLE_SALT))
    return frame.loc[scores.sort_values(kind="stable").index[:limit]].sort_index()


def load(data_path: Path, train_path: Path | None, limit: int, fit_images: bool = True) -> FashionSplit:
    """The split; image bytes of the evaluated rows, and of the fit rows when ``fit_images`` (training heads or
    fitting the ridge baseline needs them; evaluating a saved version alone does not)."""
    data = read_rows(data_path)
    if train_path is None:
        held = data["id"].map(is_holdout)
        evaluated = sample(data[held], limit)
        fit = data[~held]
        images = read_images(data_path, list(evaluated["id"]) + (list(fit["id"]) if fit_images else []))
        text = (
            f"no train dir: fit on the {len(fit)} items of the data dir that are not held out, "
            f"evaluate held-out items (recsys.splits.is_holdout of the id); evaluated corpus = "
            f"{len(evaluated)} of {int(held.sum())} held-out items (hash sample, salt {SAMPLE_SALT!r})"
        )
        return FashionSplit(fit, evaluated, int(held.sum()), images, text, 0)
    train = read_rows(train_path)
    overlap = train["id"].isin(set(data["id"]))
    # train_heads drops held-out ids whatever it is told, so the baselines drop them too: one fit set for all
    fit = train[~overlap & ~train["id"].map(is_holdout)]
    evaluated = sample(data, limit)
    images = read_images(data_path, evaluated["id"])
    if fit_images:
        images |= read_images(train_path, fit["id"])
    text = (
        f"fit on the train dir: {len(fit)} items ({int(overlap.sum())} with an id of the data dir dropped, "
        f"{int((~overlap).sum()) - len(fit)} held-out ids dropped as train_heads always does); evaluate the "
        f"data dir: {len(evaluated)} of {len(data)} items (hash sample, salt {SAMPLE_SALT!r})"
    )
    return FashionSplit(fit, evaluated, len(data), images, text, int(overlap.sum()))


def tail_types(fit_types: pd.Series, fraction: float = 0.2) -> frozenset[str]:
    """The least frequent article types that together hold at most ``fraction`` of the fit items.

    Ties in frequency are ordered by name so the cut is deterministic. Types absent from the fit data are tail
    too: callers test ``type in tail or type not in fit``, done here by ``is_tail``.
    """
    counts = fit_types.value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))
    tail, held = [], 0
    for name, count in ordered:
        if held + count > fraction * len(fit_types):
            break
        tail.append(name)
        held += count
    return frozenset(tail)


def is_tail(article_type: str, tail: frozenset[str], fit_types: frozenset[str]) -> bool:
    return article_type in tail or article_type not in fit_types


def content(row: pd.Series | object, with_title: bool) -> ItemContent:
    """The item as the catalog importer builds it (recsys.catalog.mapping.FASHION), optionally without its title."""
    get = lambda c: getattr(row, c)
    path = " > ".join(p for p in (get("masterCategory"), get("subCategory"), get("articleType")) if p)
    attributes = {c: get(c) for c in ("gender", "baseColour", "season", "year", "usage", "articleType") if get(c)}
    return ItemContent(
        str(get("id")), get("productDisplayName") if with_title else "", category=path, attributes=attributes
    )


def pair_text(row: object) -> str:
    """Training text for the joint space: the same clip_text the encoder gives the item."""
    return item_clip_text(content(row, with_title=True))


def pair_texts(row: object, views: tuple[str, ...] = CATALOG_VIEWS) -> list[str]:
    """The item's training texts, one per catalog view, as ``pair_sources.catalog_pairs`` gives them."""
    return view_texts(str(row.productDisplayName or ""), pair_text(row), views)  # type: ignore[attr-defined]


def untitled_texts(row: object) -> tuple[str, str]:
    """(joint-space text, MiniLM text) of the item with its title removed: the title->item corpus side."""
    item = content(row, with_title=False)
    joint = clip_text("", item.category, item.attributes).removeprefix(". ")  # no title: no leading '. '
    return joint, item_bert_text(item)


def pair_attributes(row: object) -> Attributes:
    """The item's (field, value) groups for the multi-positive term and for smoothing, as the catalog gives them."""
    item = content(row, with_title=True)
    return item_attributes(item.category, item.attributes)
