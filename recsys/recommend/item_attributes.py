"""The served model's item attributes (type, brand, colour, category) as columns: one int32 code per item and group
plus each group's distinct values, instead of a dict per item.

A million items as dicts were ~0.3 GB of small Python objects that a fit leaves behind in fragmented arenas; as
columns they are 16 MB, and grouping items by a value (the cold-start list's types) is an argsort, not a loop.
Reading one item (``attributes[i]``) still gives a plain dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

GROUPS = ("type", "brand", "colour", "category")
ABSENT = -1  # the code of an item without a value in a group


class ItemAttributes(Sequence[dict[str, str]]):
    def __init__(self, codes: Mapping[str, np.ndarray], values: Mapping[str, Sequence[str]]) -> None:
        self.codes = {g: np.asarray(codes[g], np.int32) for g in GROUPS}
        self.values = {g: list(values[g]) for g in GROUPS}
        self.n = len(self.codes[GROUPS[0]])

    @classmethod
    def from_dicts(cls, rows: Iterable[Mapping[str, str]]) -> ItemAttributes:
        """From one ``{group: value}`` per item (groups outside ``GROUPS`` are ignored)."""
        index: dict[str, dict[str, int]] = {g: {} for g in GROUPS}
        columns: dict[str, list[int]] = {g: [] for g in GROUPS}
        for row in rows:
            for group in GROUPS:
                value = row.get(group)
                columns[group].append(ABSENT if value is None else index[group].setdefault(value, len(index[group])))
        codes, values = {}, {}
        for group in GROUPS:  # codes in sorted value order, as np.unique would number them
            names = list(index[group])
            order = sorted(range(len(names)), key=names.__getitem__)
            rank = np.empty(len(names) + 1, np.int32)
            rank[order] = np.arange(len(names), dtype=np.int32)
            rank[-1] = ABSENT  # code -1 stays -1
            codes[group] = rank[np.array(columns[group], np.int64)]
            values[group] = [names[i] for i in order]
        return cls(codes, values)

    def value(self, group: str, item: int) -> str | None:
        code = int(self.codes[group][item])
        return None if code == ABSENT else self.values[group][code]

    def column(self, group: str, missing: str = "") -> list[str]:
        """Every item's value in ``group`` (``missing`` where it has none)."""
        names = [*self.values[group], missing]  # code -1 picks the last
        return [names[c] for c in self.codes[group].tolist()]

    def __getitem__(self, item):  # type: ignore[override]
        if isinstance(item, slice):
            return [self[i] for i in range(*item.indices(self.n))]
        return {g: self.values[g][c] for g in GROUPS if (c := int(self.codes[g][item])) != ABSENT}

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[dict[str, str]]:
        return (self[i] for i in range(self.n))

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to save (``from_state`` reads them back)."""
        out = {f"attr_codes_{g}": self.codes[g] for g in GROUPS}
        out.update({f"attr_values_{g}": np.array(self.values[g], dtype=str) for g in GROUPS})
        return out

    @classmethod
    def from_state(cls, arrays: Mapping[str, np.ndarray]) -> ItemAttributes:
        codes = {g: arrays[f"attr_codes_{g}"] for g in GROUPS}
        return cls(codes, {g: [str(v) for v in arrays[f"attr_values_{g}"].tolist()] for g in GROUPS})
