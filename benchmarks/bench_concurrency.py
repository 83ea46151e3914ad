"""Concurrent API load on the real app: search clients back to back while a merchant adds items.

    PYTHONPATH=. python benchmarks/bench_concurrency.py --data-dir DIR [--clients 20] [--seconds 60]
        [--add-every 5] [--retrain] [--port PORT] [--json]

Starts ``app.py`` on DIR (a data dir with an imported catalog, e.g. the 5k fashion demo) as a subprocess on
127.0.0.1, with a merchant account (``python -m recsys users add``) and a first admin made for the run. Then two
phases of ``--seconds`` each: one search client, then ``--clients`` clients, each its own ``gradio_client.Client``
on its own thread searching back to back (queries: fashion phrases and words of catalog titles). In both, one
merchant adds an item (a unique title and a photo) every ``--add-every`` s and polls /search for it: the seconds
from /add_item returning to the item being found. ``--retrain``: the admin starts a ranker retrain right before
the many-client phase (the ranker version the searches report shows when it is swapped in). Added items are
deleted at the end; the app is killed at the end, also on errors. Every search logs its query and impressions in
DIR, as the app always does: run it on a copy of a data dir whose behaviour log matters.

The issue's targets (5k demo, 20 clients, 60 s, an add every 5 s): 0 errors, >= 15 searches/s, p95 <= 2 s end to
end, every added item searchable within 10 s of its add returning.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from PIL import Image

from recsys.config import REPO_ROOT

MERCHANT, MERCHANT_PASSWORD = "bench-merchant", "bench-merchant-password"
ADMIN, ADMIN_PASSWORD = "bench-admin", "bench-admin-password"
QUERIES = [
    "navy blue casual shirt",
    "women red dress",
    "black leather wallet",
    "white sports shoes",
    "men analog watch",
    "blue jeans",
    "women kurta",
    "pink handbag",
    "grey t-shirt",
    "sunglasses",
    "brown formal shoes",
    "girls top",
    "track pants",
    "green kurta",
    "flip flops",
    "backpack",
    "black heels",
    "checked casual shirt",
]
CALL_TIMEOUT_S = 60  # one API call; past it the call counts as an error
VISIBLE_TIMEOUT_S = 30  # an added item not found by then counts as never visible
START_TIMEOUT_S = 1800  # a first start may train the projection heads first
NOT_READY = ("not loaded yet", "still being built")  # what /search answers while the app starts up


@dataclass
class Phase:
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    visible_s: list[float] = field(default_factory=list)  # per add: seconds until searchable
    adds: int = 0
    add_errors: list[str] = field(default_factory=list)
    never_visible: int = 0
    ranker_versions: list[str] = field(default_factory=list)  # in the order searches first reported them
    lock: threading.Lock = field(default_factory=threading.Lock)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 2),
            "searches": len(lat),
            "errors": len(self.errors),
            "searches_per_s": round(len(lat) / self.seconds, 2) if self.seconds else 0.0,
            "p50_s": round(_quantile(lat, 0.50), 3),
            "p95_s": round(_quantile(lat, 0.95), 3),
            "max_s": round(lat[-1], 3) if lat else 0.0,
            "adds": self.adds,
            "add_errors": len(self.add_errors),
            "never_visible": self.never_visible,
            "visible_median_s": round(statistics.median(self.visible_s), 2) if self.visible_s else None,
            "visible_max_s": round(max(self.visible_s), 2) if self.visible_s else None,
            "ranker_versions": self.ranker_versions,
            "first_errors": (self.errors + self.add_errors)[:5],
        }


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _photo_b64(n: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), ((n * 53) % 256, (n * 97) % 256, 140)).save(buffer, format="JPEG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SPACE_ID"}  # SPACE_ID would make app.py listen on 0.0.0.0
    env.update(
        {
            "RECSYS_DATA_DIR": str(data_dir),
            "RECSYS_PORT": str(port),
            "RECSYS_HOST": "127.0.0.1",
            "RECSYS_DEMO_LIMIT": "0",  # measure the catalog DIR holds; never seed into it
            "RECSYS_AUTO_TRAIN_RANKER": "false",  # only --retrain starts a retrain
            "RECSYS_ADMIN_USER": ADMIN,
            "RECSYS_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "HF_HUB_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "TOKENIZERS_PARALLELISM": "false",
        }
    )
    return env


def create_merchant(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "recsys", "users", "add", MERCHANT, "--role", "merchant", "--password-stdin"],
        input=MERCHANT_PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )
    if done.returncode != 0 and "already exists" not in done.stdout + done.stderr:  # a re-run on the same dir
        sys.exit(f"could not create the merchant account: {done.stdout}{done.stderr}")


def start_app(env: dict[str, str], url: str, log_path: Path, timeout_s: float) -> subprocess.Popen:
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    log.close()  # the child holds its own handle
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited ({proc.returncode}): {log_path.read_text()[-3000:]}")
        try:
            with urlopen(url, timeout=5):
                return proc
        except OSError:
            time.sleep(2)
    raise RuntimeError(f"app did not answer {url} within {timeout_s:.0f} s (log: {log_path})")


def stop_app(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    began = time.monotonic()
    os.killpg(proc.pid, signal.SIGTERM)  # its own session: the app and anything it started
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    print(f"app stopped ({proc.returncode}) in {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)


def client_for(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False)


def call(client, *args: Any, api_name: str) -> Any:
    return client.submit(*args, api_name=api_name).result(timeout=CALL_TIMEOUT_S)


def searcher(client, phase: Phase, queries: list[str], offset: int, start: threading.Barrier, deadline: list[float]):
    start.wait(timeout=120)
    n = offset
    while time.perf_counter() < deadline[0]:
        query = queries[n % len(queries)]
        n += 1
        began = time.perf_counter()
        try:
            result = call(client, query, 20, api_name="/search")
        except Exception as exc:  # every failure counts, whatever raised it
            with phase.lock:
                phase.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            time.sleep(0.1)  # a refused or dead server does not turn this into a busy loop
            continue
        took = time.perf_counter() - began
        with phase.lock:
            phase.latencies.append(took)
            version = str(result.get("ranker_version"))
            if version not in phase.ranker_versions:
                phase.ranker_versions.append(version)


def merchant(
    client,
    token: str,
    phase: Phase,
    every_s: float,
    run_id: str,
    added: list[int],
    start: threading.Barrier,
    deadline: list[float],
):
    start.wait(timeout=120)
    began = time.perf_counter()
    k = 0
    while True:
        at = began + k * every_s
        if at >= deadline[0]:
            return
        time.sleep(max(0.0, at - time.perf_counter()))
        title = f"Benchmark probe {run_id}x{phase.clients}x{k} cotton tee"
        k += 1
        fields = {"title": title, "category": "Apparel > Topwear > Tshirts", "price": 9.5}
        try:
            item = call(client, token, fields, [_photo_b64(k)], api_name="/add_item")
        except Exception as exc:
            with phase.lock:
                phase.add_errors.append(f"add_item {type(exc).__name__}: {exc}"[:300])
            continue
        returned = time.perf_counter()
        with phase.lock:
            phase.adds += 1
            added.append(item["id"])
        seen = None
        while seen is None and time.perf_counter() - returned < VISIBLE_TIMEOUT_S:
            try:
                hits = call(client, title, 20, api_name="/search")["hits"]
            except Exception as exc:
                with phase.lock:
                    phase.add_errors.append(f"probe search {type(exc).__name__}: {exc}"[:300])
                time.sleep(0.5)
                continue
            if any(hit["item_id"] == item["id"] for hit in hits):
                seen = time.perf_counter() - returned
            else:
                time.sleep(0.2)
        with phase.lock:
            if seen is None:
                phase.never_visible += 1
            else:
                phase.visible_s.append(seen)


def run_phase(url: str, clients: int, seconds: float, every_s: float, queries: list[str], run_id: str, added):
    """One phase: ``clients`` searchers and the merchant, started together, for ``seconds``."""
    phase = Phase(clients)
    searchers = [client_for(url) for _ in range(clients)]  # connecting is not part of the measurement
    shop = client_for(url)
    token = call(shop, MERCHANT, MERCHANT_PASSWORD, api_name="/login")["token"]
    start = threading.Barrier(clients + 2)
    deadline = [float("inf")]
    threads = [
        threading.Thread(target=searcher, args=(c, phase, queries, i * 7, start, deadline), daemon=True)
        for i, c in enumerate(searchers)
    ]
    threads.append(
        threading.Thread(
            target=merchant, args=(shop, token, phase, every_s, run_id, added, start, deadline), daemon=True
        )
    )
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds + 1.0  # the barrier below releases within moments
    start.wait(timeout=120)
    began = time.perf_counter()
    deadline[0] = began + seconds
    for thread in threads[:-1]:
        thread.join(timeout=seconds + CALL_TIMEOUT_S + 10)
    phase.seconds = time.perf_counter() - began  # includes the searches in flight at the deadline
    threads[-1].join(timeout=VISIBLE_TIMEOUT_S + CALL_TIMEOUT_S + 10)  # the last add's probe
    for c in [*searchers, shop]:
        c.close()
    return phase


def wait_until_searchable(url: str, proc: subprocess.Popen, timeout_s: float) -> None:
    """The page is served at once; searches answer once the models are loaded and the index is built."""
    client = client_for(url)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"app exited ({proc.returncode}) while starting up")
            try:
                call(client, "shirt", 1, api_name="/search")
                return
            except Exception as exc:
                if not any(words in str(exc) for words in NOT_READY):
                    raise
            time.sleep(2)
        raise RuntimeError(f"searches did not answer within {timeout_s:.0f} s of the page")
    finally:
        client.close()


def title_queries(url: str) -> list[str]:
    """The fixed phrases plus the first words of titles the catalog returns for them (also a warm-up)."""
    client = client_for(url)
    extra: list[str] = []
    for query in QUERIES[:6]:
        for hit in call(client, query, 5, api_name="/search")["hits"][:2]:
            words = " ".join(str(hit["title"]).split()[:3])
            if words and words not in extra:
                extra.append(words)
    client.close()
    return QUERIES + extra


def start_retrain(url: str) -> dict:
    client = client_for(url)
    token = call(client, ADMIN, ADMIN_PASSWORD, api_name="/login")["token"]
    job = call(client, token, api_name="/retrain_ranker")
    client.close()
    return job


def delete_added(url: str, item_ids: list[int]) -> int:
    client = client_for(url)
    token = call(client, MERCHANT, MERCHANT_PASSWORD, api_name="/login")["token"]
    deleted = 0
    for item_id in item_ids:
        try:
            call(client, token, item_id, api_name="/delete_item")
            deleted += 1
        except Exception as exc:
            print(f"could not delete item {item_id}: {exc}", file=sys.stderr)
    client.close()
    return deleted


def print_table(result: dict) -> None:
    header = (
        f"{'clients':>7} {'searches':>8} {'errors':>6} {'search/s':>8} {'p50 s':>6} {'p95 s':>6} {'max s':>6} "
        f"{'adds':>4} {'visible med s':>13} {'visible max s':>13} {'never':>5}"
    )
    print(f"catalog {result['data_dir']}; {result['seconds']:.0f} s per phase, an add every {result['add_every']} s")
    if result["retrain"]:
        print(f"ranker retrain started before the {result['phases'][-1]['clients']}-client phase: {result['retrain']}")
    print(header)
    for p in result["phases"]:
        med = "-" if p["visible_median_s"] is None else f"{p['visible_median_s']:.2f}"
        top = "-" if p["visible_max_s"] is None else f"{p['visible_max_s']:.2f}"
        print(
            f"{p['clients']:>7} {p['searches']:>8} {p['errors'] + p['add_errors']:>6} {p['searches_per_s']:>8.1f} "
            f"{p['p50_s']:>6.2f} {p['p95_s']:>6.2f} {p['max_s']:>6.2f} {p['adds']:>4} {med:>13} {top:>13} "
            f"{p['never_visible']:>5}"
        )
        if p["first_errors"]:
            print("   first errors: " + " | ".join(p["first_errors"]))
        print(f"   ranker versions seen: {', '.join(p['ranker_versions'])}")
    print(f"throughput ratio {result['phases'][-1]['clients']} clients / 1 client: {result['ratio']:.2f}x")
    print(f"load average before {result['load_before']}, after {result['load_after']} ({os.cpu_count()} CPUs)")
    print(
        "targets met (many clients): " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in result["targets"].items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--add-every", type=float, default=5)
    parser.add_argument("--retrain", action="store_true", help="start a ranker retrain before the many-client phase")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--start-timeout", type=float, default=START_TIMEOUT_S)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.add_every <= 0:
        parser.error("--clients, --seconds and --add-every must be positive")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # this process's clients: nothing leaves 127.0.0.1
    os.environ["HF_HUB_OFFLINE"] = "1"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below still stops the app
    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = args.port or _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = _env(data_dir, port)
    load_before = [round(x, 2) for x in os.getloadavg()]
    proc = None
    added: list[int] = []
    try:
        create_merchant(env)
        began = time.perf_counter()
        proc = start_app(env, url, data_dir / "bench-concurrency-app.log", args.start_timeout)
        wait_until_searchable(url, proc, args.start_timeout)
        note = f"app up in {time.perf_counter() - began:.0f} s on {url}"
        print(note, file=sys.stderr, flush=True)
        queries = title_queries(url)
        run_id = uuid.uuid4().hex[:8]
        phases = [run_phase(url, 1, args.seconds, args.add_every, queries, run_id, added)]
        retrain = start_retrain(url) if args.retrain else None
        phases.append(run_phase(url, args.clients, args.seconds, args.add_every, queries, run_id, added))
        load_after = [round(x, 2) for x in os.getloadavg()]
    finally:
        deleted = 0
        if added and proc is not None and proc.poll() is None:
            try:  # leave DIR's catalog as it was (image files stay until gc-images)
                deleted = delete_added(url, added)
            except Exception as exc:
                print(f"could not delete the added items {added}: {exc}", file=sys.stderr)
        stop_app(proc)
    summaries = [p.summary() for p in phases]
    one, many = summaries
    visible_ok = many["never_visible"] == 0 and (many["visible_max_s"] or 0) <= 10 and many["add_errors"] == 0
    result = {
        "data_dir": str(data_dir),
        "seconds": args.seconds,
        "add_every": args.add_every,
        "queries": len(queries),
        "retrain": retrain,
        "phases": summaries,
        "ratio": round(many["searches_per_s"] / one["searches_per_s"], 2) if one["searches_per_s"] else 0.0,
        "load_before": load_before,
        "load_after": load_after,
        "cpus": os.cpu_count(),
        "added_items_deleted": deleted,
        "targets": {
            "0 errors": many["errors"] == 0 and many["add_errors"] == 0,
            ">= 15 searches/s": many["searches_per_s"] >= 15,
            "p95 <= 2 s": many["p95_s"] <= 2.0,
            "visible <= 10 s": visible_ok,
        },
    }
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
