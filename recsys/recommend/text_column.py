"""Item titles for the served model as one UTF-8 buffer and offsets, not a Python string per item.

A million titles as strings were ~90 MB, and worse, they were allocated among the rows a fit reads and throws away,
so they pinned that memory in the allocator's arenas after the fit (the recommenders held ~0.9 GB at 1M items of
which ~0.4 GB were the model). ``column[i]`` decodes one title.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np


class TextColumn(Sequence[str]):
    def __init__(self, data: np.ndarray, offsets: np.ndarray) -> None:
        self.data = np.asarray(data, np.uint8)
        self.offsets = np.asarray(offsets, np.int64)
        if self.offsets.ndim != 1 or not len(self.offsets) or self.offsets[-1] != len(self.data):
            raise ValueError("text column offsets do not match its buffer")

    @classmethod
    def from_strings(cls, strings: Iterable[str]) -> TextColumn:
        encoded = [s.encode("utf-8") for s in strings]
        offsets = np.zeros(len(encoded) + 1, np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), np.uint8).copy(), offsets)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = int(index) + (len(self) if index < 0 else 0)
        if not 0 <= position < len(self):
            raise IndexError(f"text column index {index} out of range")
        start, end = self.offsets[position], self.offsets[position + 1]
        return self.data[start:end].tobytes().decode("utf-8")

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def state(self, name: str) -> dict[str, np.ndarray]:
        return {f"{name}_utf8": self.data, f"{name}_offsets": self.offsets}

    @classmethod
    def from_state(cls, arrays: dict, name: str) -> TextColumn:
        return cls(arrays[f"{name}_utf8"], arrays[f"{name}_offsets"])
