"""The whole search pipeline at scale, through the service as the app runs it: N SYNTHETIC items seeded straight into
a catalog database with their route vectors (no encoding), then ``TailLiftService`` on that data dir.

    HF_HUB_OFFLINE=1 python benchmarks/bench_service_scale.py --items 1000000 --factory "IVF4096,PQ160" --json

Speed and memory only, never quality (``recsys.catalog.synthetic``): titles and attributes recombine the real
fashion vocabulary, route vectors are drawn around real vectors of real titles (MiniLM for the text routes, the
packaged joint tower's text side for the joint routes, the photo route near the joint text one; the reviews route
zeros, as for an item without reviews), fused as the encoder fuses them, stored as the encoder stores them. Each
size, and each restart, runs in its own subprocess so its RSS is its own. Per size:

* ``build_s``: ``load_models`` on the seeded database (item table, route matrices, vector index with the given
  factory, BM25): the first start once items are encoded; ``build_peak_rss_mb`` that process's high-water mark.
* ``restart_s``: a fresh process's ``load_models`` on the same data dir (indexes saved by the first start); the
  searches below run in this process, which trained nothing.
* ``p50_ms``/``p95_ms``: warm text searches through ``TailLiftService.search`` with a gender filter: query
  understanding, encoding, hybrid recall, features, the LightGBM ranker, exposure re-rank, explanations of the page.
  The ranker is the catalog ranker trained on the reference (40k) synthetic catalog in the same invocation
  (weak labels; its quality means nothing here, its cost is the served one) and copied to the larger data dir.
* ``rss_mb``: the process's resident set after those searches (the steady serving state); ``peak_rss_mb``: its
  high-water mark, start-up transients included.

* with ``--app``: ``python app.py`` itself on the seeded dir (UI, background start-up, review opinions,
  recommenders): ``app_ready_s`` until ``/status`` says ready, ``app_rss_mb`` its resident set after
  ``--app-searches`` searches through the HTTP API, ``app_p50_ms``/``app_p95_ms`` those searches (HTTP included).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing as mp
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from benchmarks.bench_scale import base_vectors, pct
from recsys.catalog.synthetic import SYNTHETIC_MARK, FashionVocabulary, synthetic_catalog
from recsys.config import REPO_ROOT, Settings, get_settings

REFERENCE_ITEMS = 40_000
CHUNK = 20_000


def settings_for(data_dir: Path, factory: str) -> Settings:
    # No demo seeding, no background ranker training: the bench decides what runs.
    return get_settings().replace(data_dir=data_dir, index_factory=factory, auto_train_ranker=False)


def proc_rss(pid: int | str = "self") -> tuple[float, float]:
    """(current, peak) resident set of a process, MB, from /proc (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def seed(n: int, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """``n`` synthetic items and all their route vectors into a fresh catalog under ``data_dir``."""
    from sqlalchemy import insert

    from recsys.catalog.models import Item, ItemEmbedding, Merchant
    from recsys.catalog.store import CatalogStore
    from recsys.encoders import routes
    from recsys.encoders.factory import create_encoder
    from recsys.encoders.fusion import fuse

    settings = settings_for(data_dir, args.factory)
    encoder = create_encoder(settings)
    styles = Path(args.styles)
    titles, text_base = base_vectors(styles, args.base_items, Path(args.cache_dir))
    joint_base = encoder.joint.encode_texts(titles)
    vocab = FashionVocabulary.from_styles_csv(styles)
    # The same seed draws the same base rows and titles, so an item's routes sit around one real title.
    cat = synthetic_catalog(n, vocab, text_base, seed=n)
    joint_text = synthetic_catalog(n, vocab, joint_base, seed=n).vectors
    rng = np.random.default_rng(n + 1)
    store = CatalogStore(settings)
    now = datetime.now(UTC)
    start = time.perf_counter()
    with store.sessions.begin() as session:
        merchant = Merchant(name="synthetic")
        session.add(merchant)
        session.flush()
        merchant_id = merchant.id
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        image = joint_text[lo:hi] + 0.05 * rng.standard_normal((hi - lo, joint_text.shape[1]), dtype=np.float32)
        image /= np.linalg.norm(image, axis=1, keepdims=True)
        text_clip, text_bert = joint_text[lo:hi], cat.vectors[lo:hi]
        vectors = {
            routes.IMAGE: image,
            routes.TEXT_CLIP: text_clip,
            routes.TEXT_BERT: text_bert,
            routes.REVIEWS_BERT: np.zeros_like(text_bert),
            routes.FUSED: fuse((image + text_clip) / 2, text_bert, encoder.weights),
        }
        item_rows = []
        for i in range(lo, hi):
            attrs = cat.item_attributes(i)
            path = [attrs.get("masterCategory", ""), attrs.get("subCategory", ""), attrs.get("articleType", "")]
            item_rows.append(
                {
                    "id": i + 1,
                    "merchant_id": merchant_id,
                    "external_id": f"syn-{i}",
                    "title": cat.titles[i],
                    "description": "",
                    "brand": "",
                    "category": " > ".join(p for p in path if p),
                    "attributes": attrs,
                    "price": float(cat.prices[i]),
                    "currency": "INR",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        with store.sessions.begin() as session:
            session.execute(insert(Item), item_rows)
            for route, matrix in vectors.items():
                matrix = np.ascontiguousarray(matrix, dtype="<f4")
                session.execute(
                    insert(ItemEmbedding),
                    [
                        {
                            "item_id": i + 1 + lo,
                            "model_version": encoder.version,
                            "route": route,
                            "dim": matrix.shape[1],
                            "vector": row.tobytes(),
                        }
                        for i, row in enumerate(matrix)
                    ],
                )
    store.db_engine.dispose()
    return {"seed_s": time.perf_counter() - start, "model_version": encoder.version, SYNTHETIC_MARK: True}


def first_start(n: int, args: argparse.Namespace, data_dir: Path, train_ranker: bool) -> dict[str, Any]:
    """The service's first start on the seeded dir (indexes built and saved), the catalog ranker trained if asked."""
    from recsys.accounts.principal import SYSTEM
    from recsys.service.taillift import TailLiftService
    from recsys.training.catalog_ranker import FIRST_START_GRID

    service = TailLiftService(settings_for(data_dir, args.factory))
    start = time.perf_counter()
    service.load_models()
    out: dict[str, Any] = {"items": n, "build_s": time.perf_counter() - start}
    out["build_peak_rss_mb"] = proc_rss()[1]
    if train_ranker:
        start = time.perf_counter()
        job = service.retrain_ranker(SYSTEM, grid=FIRST_START_GRID)
        job.wait()
        if job.status != "done":
            raise RuntimeError(f"ranker training failed: {job.message}")
        out["ranker_train_s"] = time.perf_counter() - start
    service.close()
    return out


def serve(n: int, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """A restart on the built dir (no training in this process), then warm searches through the service."""
    from recsys.search.filters import SearchFilters
    from recsys.search.types import SearchRequest
    from recsys.service.taillift import TailLiftService

    service = TailLiftService(settings_for(data_dir, args.factory))
    start = time.perf_counter()
    service.load_models()
    out: dict[str, Any] = {"restart_s": time.perf_counter() - start, "restart_rss_mb": proc_rss()[0]}
    ranker = out["ranker"] = service._engine().ranking.version
    if ranker == "fallback":
        raise RuntimeError("no trained ranker is served: the pipeline would skip LightGBM")
    titles, _ = base_vectors(Path(args.styles), args.base_items + args.queries, Path(args.cache_dir))
    queries = titles[args.base_items :]  # real titles the synthetic items were not drawn around
    women = SearchFilters(gender=("Women",))

    def search(text: str) -> int:
        return len(service.search(SearchRequest(text=text, filters=women, k=20, log=False)).hits)

    for text in queries[:10]:
        search(text)
    times, empty = [], 0
    for text in queries:
        start = time.perf_counter()
        empty += search(text) == 0
        times.append(time.perf_counter() - start)
    out["p50_ms"], out["p95_ms"] = pct(times)
    if args.profile:  # where a search's time goes at this size: cumulative top functions, to stderr
        profile = cProfile.Profile()
        profile.runcall(lambda: [search(text) for text in queries[: args.profile]])
        print(f"# profile of {args.profile} searches at {n} items", file=sys.stderr)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    out["empty_pages"] = empty
    out["rss_mb"], out["peak_rss_mb"] = proc_rss()
    service.close()
    return out


def app_rss(n: int, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """``python app.py`` on the seeded dir as a user starts it (UI, background start-up, opinions, recommenders):
    its resident set once ready and after ``--app-searches`` searches through the HTTP API (gradio_client)."""
    from gradio_client import Client

    from benchmarks.bench_first_start import free_port, page_up, stop_app

    port = free_port()
    env = {
        **os.environ,
        "RECSYS_DATA_DIR": str(data_dir),
        "RECSYS_INDEX_FACTORY": args.factory,
        "RECSYS_PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    url, started = f"http://127.0.0.1:{port}/", time.monotonic()
    with open(data_dir / "app.log", "ab") as log:
        app = subprocess.Popen([sys.executable, str(REPO_ROOT / "app.py")], env=env, stdout=log, stderr=log)
    try:
        while not page_up(url):
            if app.poll() is not None or time.monotonic() - started > args.app_timeout:
                raise RuntimeError(f"app.py did not come up; see {data_dir / 'app.log'}")
            time.sleep(0.5)
        client = Client(url, verbose=False)
        while not client.predict(api_name="/status")["startup"]["ready"]:
            if time.monotonic() - started > args.app_timeout:
                raise RuntimeError("app.py start-up did not finish in time")
            time.sleep(1)
        out: dict[str, Any] = {"app_ready_s": time.monotonic() - started, "app_ready_rss_mb": proc_rss(app.pid)[0]}
        titles, _ = base_vectors(Path(args.styles), args.base_items + args.queries, Path(args.cache_dir))
        times = []
        for text in titles[args.base_items :][: args.app_searches]:
            start = time.perf_counter()
            client.predict(text=text, k=20, gender=["Women"], api_name="/search")
            times.append(time.perf_counter() - start)
        out["app_p50_ms"], out["app_p95_ms"] = pct(times)
        out["app_rss_mb"], out["app_peak_rss_mb"] = proc_rss(app.pid)
        return out
    finally:
        stop_app(app)


def _child(target: Any, queue: mp.Queue, *a: Any) -> None:
    try:
        queue.put(("ok", target(*a)))
    except BaseException as exc:  # report, then let the parent decide
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
        raise


def in_subprocess(target: Any, *a: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, queue, *a))
    proc.start()
    while True:  # a killed child (out of memory) must not hang the parent
        try:
            kind, value = queue.get(timeout=5)
            break
        except Exception:  # queue.Empty
            if not proc.is_alive():
                raise RuntimeError(f"{target.__name__} died with exit code {proc.exitcode} (out of memory?)") from None
    proc.join()
    if kind == "error":
        raise RuntimeError(f"{target.__name__}: {value}")
    return value


def run_size(n: int, args: argparse.Namespace, root: Path, ranker_from: Path | None) -> tuple[dict[str, Any], Path]:
    data_dir = root / f"items-{n}"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    result = in_subprocess(seed, n, args, data_dir)
    if ranker_from is not None:
        shutil.copytree(ranker_from / "models" / "ranker", data_dir / "models" / "ranker")
    phases = [(first_start, (n, args, data_dir, ranker_from is None)), (serve, (n, args, data_dir))]
    for phase, phase_args in phases:
        result |= in_subprocess(phase, *phase_args)
        print(f"# {n} items, after {phase.__name__}: " + json.dumps(result), file=sys.stderr, flush=True)
    if args.app:
        result |= app_rss(n, args, data_dir)
        print(f"# {n} items, app: " + json.dumps(result), file=sys.stderr, flush=True)
    return result, data_dir


FIELDS = (
    "build_s",
    "build_peak_rss_mb",
    "restart_s",
    "restart_rss_mb",
    "p50_ms",
    "p95_ms",
    "rss_mb",
    "peak_rss_mb",
    "seed_s",
)
APP_FIELDS = ("app_ready_s", "app_ready_rss_mb", "app_p50_ms", "app_p95_ms", "app_rss_mb", "app_peak_rss_mb")


def main() -> None:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--reference", type=int, default=REFERENCE_ITEMS, help="the smaller run the ranker is trained on")
    p.add_argument("--factory", default="IVF4096,PQ160", help="FAISS factory string of the served vector index")
    p.add_argument("--styles", default=str(s.demo_dir / "styles.csv"), help="fashion styles.csv (RECSYS_DEMO_DIR)")
    p.add_argument("--base-items", type=int, default=3000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "taillift-bench-cache"))
    p.add_argument("--work-dir", default="", help="where the seeded data dirs go (default: a temporary dir)")
    p.add_argument("--keep", action="store_true", help="keep the seeded data dirs")
    p.add_argument("--app", action="store_true", help="also start app.py on each seeded dir: its RSS and API latency")
    p.add_argument("--app-searches", type=int, default=50)
    p.add_argument("--app-timeout", type=float, default=1800)
    p.add_argument("--profile", type=int, default=0, help="also profile this many searches per size (stderr)")
    p.add_argument(
        "--serve", default="", help="only restart + search (and --app) on this seeded dir (kept by --keep; no seeding)"
    )
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.serve:  # re-measure serving after a change without seeding and building again
        served = in_subprocess(serve, args.items, args, Path(args.serve))
        if args.app:
            served |= app_rss(args.items, args, Path(args.serve))
        print(json.dumps(served) if args.json else "\n".join(f"{k:<16}{v}" for k, v in served.items()))
        return
    root = Path(args.work_dir or tempfile.mkdtemp(prefix="taillift-service-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        ref, ref_dir = run_size(args.reference, args, root, None)
        big = ref if args.items == args.reference else run_size(args.items, args, root, ref_dir)[0]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        keys = ("items", *FIELDS, *(APP_FIELDS if args.app else ()))
        print(json.dumps({**{k: big[k] for k in keys}, "reference": {k: ref[k] for k in keys}}))
        return
    print(f"SYNTHETIC catalog through TailLiftService, factory {args.factory}, ranker {big['ranker']}")
    print(f"{'figure':<16}{args.reference:>12}{args.items:>12}{'ratio':>8}")
    for k in FIELDS + (APP_FIELDS if args.app else ()):
        print(f"{k:<16}{ref[k]:>12.2f}{big[k]:>12.2f}{big[k] / ref[k]:>8.2f}")


if __name__ == "__main__":
    main()
