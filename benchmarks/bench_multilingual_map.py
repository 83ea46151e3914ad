"""Can Chinese queries use the MiniLM item space (and so the MiniLM-input projection heads)? A ridge map USE -> MiniLM.

    HF_HUB_OFFLINE=1 PYTHONPATH=. nice -n 10 python benchmarks/bench_multilingual_map.py

The map is fitted on 3,000 English titles that are NOT held out (USE vector -> MiniLM vector, ridge 0.1); then the
bilingual queries (English and Chinese), encoded by USE and mapped, search the MiniLM vectors of 2,000 held-out
items' English titles. Same queries and relevance as bench_multilingual.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_multilingual import _MiniLM, quality  # noqa: E402

from recsys.config import Settings  # noqa: E402
from recsys.encoders.multilingual import USE_MULTILINGUAL, MultilingualTextEncoder  # noqa: E402
from recsys.evaluation import bilingual, fashion_data  # noqa: E402
from recsys.splits import is_holdout  # noqa: E402


def main() -> None:
    rows = fashion_data.read_rows(fashion_data.suite_dir(Settings().demo_dir))
    held_mask = rows["id"].map(is_holdout)
    held = fashion_data.sample(rows[held_mask], 2000)
    fit = fashion_data.sample(rows[~held_mask], 3000)
    minilm, use = _MiniLM(), MultilingualTextEncoder(USE_MULTILINGUAL)
    x = use.encode_items(fit["productDisplayName"].tolist())
    y = minilm.encode_items(fit["productDisplayName"].tolist())
    w = np.linalg.solve(x.T @ x + 0.1 * np.eye(x.shape[1]), x.T @ y).astype(np.float32)

    class Mapped:
        def encode_queries(self, texts: list[str]) -> np.ndarray:
            v = use.encode_queries(texts) @ w
            return v / np.linalg.norm(v, axis=1, keepdims=True)

        encode_items = minilm.encode_items

    table = SimpleNamespace(
        leaf=held["articleType"].to_numpy(), colour=held["baseColour"].to_numpy(), gender=held["gender"].to_numpy()
    )
    result = quality(Mapped(), held["productDisplayName"].tolist(), table, bilingual.load_queries())
    for lang, (p, n) in result.items():
        print(f"USE->MiniLM map, MiniLM items | {lang} P@10 {p:.3f} nDCG@10 {n:.3f}")


if __name__ == "__main__":
    main()
