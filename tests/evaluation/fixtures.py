"""Tiny data directories in the real file formats of ../shared/data, generated per test.

Keys are picked with ``recsys.splits`` so that both sides of every held-out split are non-empty.
"""

from __future__ import annotations

import csv
from pathlib import Path

from recsys.splits import is_holdout
from tests.demo_catalog import REVIEWS_HEADER


def _keys(prefix: str, n_train: int, n_held: int) -> tuple[list[str], list[str]]:
    train, held, i = [], [], 0
    while len(train) < n_train or len(held) < n_held:
        key = f"{prefix}{i}"
        side = held if is_holdout(key) else train
        wanted = n_held if side is held else n_train
        if len(side) < wanted:
            side.append(key)
        i += 1
    return train, held


def _ids(n_train: int, n_held: int, start: int = 100) -> tuple[list[int], list[int]]:
    train, held, i = [], [], start
    while len(train) < n_train or len(held) < n_held:
        side = held if is_holdout(i) else train
        if len(side) < (n_held if side is held else n_train):
            side.append(i)
        i += 1
    return train, held


WORDS = ["red", "shoe", "lamp", "desk", "silk", "scarf", "wool", "coat", "led", "light", "mug", "tea"]


def write_crowdflower(root: Path, queries: list[str] | None = None) -> Path:
    folder = root / "crowdflower"
    folder.mkdir(parents=True, exist_ok=True)
    if queries is None:
        train, held = _keys("shoe query ", 6, 3)  # the ranker's grouped CV needs >= 5 fit queries
        queries = train + held
    rows, row_id = [], 1
    for qi, query in enumerate(queries):
        for pj, relevance in enumerate((4, 3, 2, 1, 1)):
            word = WORDS[(qi + pj) % len(WORDS)]
            # graded by text: 4 holds the whole query, 3 only its last word, 2 and 1 none of it
            title = {4: f"{query} {word}", 3: f"{query.split()[-1]} {word}"}.get(relevance, f"{word} item")
            rows.append([row_id, query, title, "" if pj == 2 else f"a {word} product number", relevance, 0.0])
            row_id += 1
    with open(folder / "relevance.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "query", "product_title", "product_description", "median_relevance", "relevance_variance"]
        )
        writer.writerows(rows)
    return folder


def write_instacart(root: Path, n_users: int = 6, first_order_id: int = 1000) -> Path:
    folder = root / "instacart"
    folder.mkdir(parents=True, exist_ok=True)
    lines, order_id = [], first_order_id
    for user in range(1, n_users + 1):
        for number in range(1, 4 + user % 2):
            order_id += 1
            # staple products 1-3 for everyone, a personal product, and a rotating rare one
            basket = [1 + (user + number) % 3, 10 + user, 20 + (user * number) % 7]
            for pos, product in enumerate(basket, start=1):
                days = "" if number == 1 else "7.0"
                lines.append([order_id, user, number, 2, 10, days, product, f"{pos}.0", "1.0" if number > 1 else "0.0"])
    with open(folder / "order_products.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "order_id",
                "user_id",
                "order_number",
                "order_dow",
                "order_hour_of_day",
                "days_since_prior_order",
                "product_id",
                "add_to_cart_order",
                "reordered",
            ]
        )
        writer.writerows(lines)
    with open(folder / "products.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([[p, f"Product, number {p}", 1 + p % 3, 1 + p % 2] for p in range(1, 40)])
    (folder / "aisles.csv").write_text("1,soup\n2,cheese\n3,tea\n222,abc\n3489,sdf\n")
    (folder / "departments.csv").write_text("1,pantry\n2,dairy\n")
    return folder


def write_reviews(root: Path, start: int = 100) -> Path:
    folder = root / "reviews"
    folder.mkdir(parents=True, exist_ok=True)
    train, held = _ids(6, 4, start)
    rows = []
    for index, item in enumerate(train + held):
        n_reviews = 1 if index % 2 else 4  # both tail (1-2) and head (3+) garments on each side
        for r in range(n_reviews):
            good = (index + r) % 3 != 0
            text = "love this dress, perfect fit" if good else "returned it, poor quality and too small"
            rows.append(
                [
                    item,
                    30 + r,
                    "Great" if good else "Disappointed",
                    text,
                    5 if good else 2,
                    int(good),
                    r,
                    "General",
                    "Dresses",
                    "Dresses",
                ]
            )
    rows.append([train[0], 40, "", "", 3, 1, 0, "General", "Dresses", "Dresses"])  # empty review: dropped
    with open(folder / "womens_clothing_reviews.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REVIEWS_HEADER)
        writer.writerows(rows)
    return folder
