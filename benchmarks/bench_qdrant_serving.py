"""Search served from each index engine (RECSYS_INDEX_BACKEND) on the 30-item test catalog: how long mirroring the
built state into Qdrant takes, and the median ``service.search`` latency (recall + ranking), faiss vs qdrant.

Qdrant runs in qdrant-client's local mode (``:memory:``, pure Python, meant for tests): its times say how much the
in-process stand-in adds, nothing about a Qdrant server. Run: ``HF_HUB_OFFLINE=1 nice -n 10 python
benchmarks/bench_qdrant_serving.py``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from recsys.config import Settings
from recsys.search.filters import SearchFilters
from recsys.search.index_mirror import with_backend
from recsys.search.types import SearchRequest
from recsys.service.taillift import TailLiftService
from tests.small_catalog import fill_small_catalog


def service_for(root: Path, backend: str) -> TailLiftService:
    settings = Settings.from_env(
        {"data_dir": root / backend, "demo_limit": 0, "index_backend": backend, "qdrant_url": ":memory:"}, environ={}
    )
    service = TailLiftService(settings)
    fill_small_catalog(service)
    service.load_models()
    return service


def median_ms(services: dict[str, TailLiftService], requests: list[SearchRequest]) -> dict[str, float]:
    """Median latency per engine, the engines interleaved request by request so shared-CPU load hits both alike."""
    times: dict[str, list[float]] = {name: [] for name in services}
    for request in requests:
        for name, service in services.items():
            start = time.perf_counter()
            service.search(request)
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="passes over the 30 titles")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        services = {name: service_for(Path(tmp), name) for name in ("faiss", "qdrant")}
        state = services["faiss"].engine.holder.get()
        qdrant_settings = services["qdrant"].settings
        mirror = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            with_backend(state, qdrant_settings).backend.close()  # type: ignore[union-attr]
            mirror.append(time.perf_counter() - start)
        print(f"mirror {len(state.table)} items into Qdrant local mode: median {statistics.median(mirror):.3f} s")
        titles = [item.title for item in services["faiss"].browse().items] * args.repeats
        for label, filters in (("text", SearchFilters()), ("text + filter", SearchFilters(max_price=20.0))):
            requests = [SearchRequest(text=t, k=10, filters=filters, log=False) for t in titles]
            median_ms(services, requests[:5])  # warm-up
            ms = median_ms(services, requests)
            print(
                f"{label:<14} search p50: faiss {ms['faiss']:.1f} ms, qdrant {ms['qdrant']:.1f} ms "
                f"(x{ms['qdrant'] / ms['faiss']:.2f})"
            )
        for service in services.values():
            service.engine.wait_idle()


if __name__ == "__main__":
    main()
