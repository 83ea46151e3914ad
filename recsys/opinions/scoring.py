"""An opinion model scored on labelled sentences: aspect precision / recall (classifier and seeds alone) and
sentence polarity (accuracy at P(positive) >= 0.5 and AUC) on the labelled positive / negative mentions.

Used by benchmarks/bench_opinion_text_models.py for the English reference set and the written Chinese set alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

from recsys.opinions.aspects import Aspect, seed_pattern
from recsys.opinions.labelled import LabelledSentence
from recsys.opinions.model import OpinionModel


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f1 = 2 * p * r / (p + r) if p and r else None
    return {"precision": p, "recall": r, "f1": f1, "support": tp + fn, "tp": tp, "fp": fp}


def score_labelled(
    labelled: Sequence[LabelledSentence], vectors: np.ndarray, model: OpinionModel, aspects: Sequence[Aspect]
) -> dict:
    """``vectors``: the sentences' vectors from the model's own text model (rows in ``labelled`` order)."""
    found = model.apply(vectors)
    out: dict = {"sentences": len(labelled), "classifier": {}, "seeds": {}}
    totals = {"classifier": [0, 0, 0], "seeds": [0, 0, 0]}
    for aspect in aspects:
        if aspect.key not in model.aspect_keys:
            continue
        col = model.aspect_keys.index(aspect.key)
        truth = np.array([aspect.key in s.aspects for s in labelled], dtype=bool)
        pattern = seed_pattern(aspect.seeds)
        for name, said in (
            ("classifier", found.aspect_hits[:, col]),
            ("seeds", np.array([pattern.search(s.text) is not None for s in labelled], dtype=bool)),
        ):
            tp, fp, fn = int((said & truth).sum()), int((said & ~truth).sum()), int((~said & truth).sum())
            out[name][aspect.key] = _prf(tp, fp, fn)
            for k, v in enumerate((tp, fp, fn)):
                totals[name][k] += v
    for name, (tp, fp, fn) in totals.items():
        out[name]["micro"] = _prf(tp, fp, fn)
    polar = [(i, p == "positive") for i, s in enumerate(labelled) for p in s.aspects.values() if p != "neutral"]
    if polar:
        rows = np.array([i for i, _ in polar])
        truth = np.array([y for _, y in polar])
        p = found.positive[rows]
        out["polarity"] = {
            "mentions": len(polar),
            "accuracy": float(np.mean((p >= 0.5) == truth)),
            "auc": float(roc_auc_score(truth, p)) if 0 < truth.sum() < len(truth) else None,
        }
    return out
