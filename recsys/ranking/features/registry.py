"""The ``FeatureSet`` registry: feature names in model-column order, grouped by family.

A saved ranker stores this name list; loading checks it, so a model never silently reads shifted columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from recsys.ranking.features import (
    cross,
    late_interaction,
    opinions,
    popularity,
    price,
    quality,
    query_match,
    query_norm,
    result_set,
    scores,
    session,
    text_match,
)


@dataclass(frozen=True)
class FeatureSet:
    families: tuple[tuple[str, tuple[str, ...]], ...]

    @cached_property  # read per ranked row when explaining; a frozen set of families never changes
    def names(self) -> tuple[str, ...]:
        return tuple(name for _, names in self.families for name in names)

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        return self.names.index(name)

    def family_of(self, name: str) -> str:
        for family, names in self.families:
            if name in names:
                return family
        raise KeyError(name)

    def family_slice(self, family: str) -> slice:
        start = 0
        for fam, names in self.families:
            if fam == family:
                return slice(start, start + len(names))
            start += len(names)
        raise KeyError(family)


FEATURES = FeatureSet(
    (
        ("route_scores", scores.NAMES),
        ("text_match", text_match.NAMES),
        ("late_interaction", late_interaction.NAMES),
        ("result_set", result_set.NAMES),
        ("cross", cross.NAMES),
        ("query_norm", query_norm.NAMES),
        ("quality", quality.NAMES),
        ("price", price.NAMES),
        ("popularity", popularity.NAMES),
        ("session", session.NAMES),
        ("query_match", query_match.NAMES),
        ("opinions", opinions.NAMES),  # last: the other families keep their column positions
    )
)
