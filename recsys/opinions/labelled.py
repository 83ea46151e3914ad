"""The hand-labelled aspect test set: references to review sentences (no review text is stored in the repository),
resolved against the reviews CSV, with the SHA-1 check described in tests/opinions/data/README.md."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recsys.opinions.sentences import review_sentences

POLARITIES = ("positive", "negative", "neutral")


@dataclass(frozen=True)
class LabelledSentence:
    text: str
    clothing_id: int
    aspects: dict[str, str]  # aspect key -> positive / negative / neutral


def _cell(value: object) -> str:
    return "" if pd.isna(value) else str(value)  # type: ignore[call-overload]


def read_labelled(labels_path: Path, reviews_csv: Path) -> list[LabelledSentence]:
    frame = pd.read_csv(reviews_csv)
    out = []
    for number, line in enumerate(Path(labels_path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        ref = json.loads(line)
        if not 0 <= int(ref["row"]) < len(frame):
            raise ValueError(f"{labels_path}:{number}: row {ref['row']} is not in {reviews_csv} ({len(frame)} rows)")
        row = frame.iloc[int(ref["row"])]
        sentences = review_sentences(_cell(row["Title"]), _cell(row["Review Text"]))
        index = int(ref["sentence"])
        text = sentences[index] if index < len(sentences) else ""
        if int(row["Clothing ID"]) != int(ref["clothing_id"]) or (
            hashlib.sha1(text.encode("utf-8")).hexdigest()[:12] != ref["sha1"]
        ):
            raise ValueError(f"{labels_path}:{number}: the referenced sentence is not in {reviews_csv} as labelled")
        bad = [p for p in ref["aspects"].values() if p not in POLARITIES]
        if bad:
            raise ValueError(f"{labels_path}:{number}: polarity must be one of {POLARITIES}, got {bad}")
        out.append(LabelledSentence(text, int(ref["clothing_id"]), dict(ref["aspects"])))
    return out


def read_written(labels_path: Path, aspect_keys: set[str] | None = None) -> list[LabelledSentence]:
    """A labelled set whose sentences were written for the test (text stored in the file, no review behind it,
    ``clothing_id`` 0): one JSON object a line, ``{"text": ..., "aspects": {key: polarity}}``."""
    out = []
    for number, line in enumerate(Path(labels_path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        ref = json.loads(line)
        text, aspects = ref.get("text"), ref.get("aspects")
        if not isinstance(text, str) or not text.strip() or not isinstance(aspects, dict):
            raise ValueError(f"{labels_path}:{number}: expected {{'text': ..., 'aspects': {{...}}}}")
        bad = [p for p in aspects.values() if p not in POLARITIES]
        if bad:
            raise ValueError(f"{labels_path}:{number}: polarity must be one of {POLARITIES}, got {bad}")
        unknown = sorted(set(aspects) - aspect_keys) if aspect_keys is not None else []
        if unknown:
            raise ValueError(f"{labels_path}:{number}: unknown aspect keys {unknown}")
        out.append(LabelledSentence(text, 0, dict(aspects)))
    return out
