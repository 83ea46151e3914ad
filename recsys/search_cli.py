"""``python -m recsys search "TEXT" [--image PATH] [-k 10] [--category TYPE] [--json] [-o FILE]`` and
``python -m recsys search --batch FILE``.

A hit carries the internal ``item_id`` and the merchant's own ``external_id``. ``--batch FILE`` loads the models
once and prints one JSON line per query: FILE holds one text query per line, or is a CSV (``.csv``) with a
``text`` and/or ``image`` column (image paths relative to the CSV's folder; an ``id`` column is echoed back);
``-`` reads stdin. A query that cannot run gives a line ``{"line": N, "error": "..."}`` and the batch goes on.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recsys.cli_output import ProgressReporter, add_output_arguments, emit, note, stdout, to_json, write_file
from recsys.config import get_settings


def add_search_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search",
        help="search the catalog by text and/or image; --batch FILE for many queries",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("text", nargs="?", default="")
    p.add_argument("--image", help="query image file")
    p.add_argument("-k", type=int, default=10, help="results per query (default 10)")
    p.add_argument("--category", action="append", default=[], help="article type filter (repeatable)")
    p.add_argument(
        "--batch",
        metavar="FILE",
        help="one query per line (or a CSV with text/image columns; - = stdin): JSON lines out",
    )
    add_output_arguments(p, "the results")
    p.set_defaults(func=run_search)


@dataclass(frozen=True)
class Query:
    line: int  # 1-based line (or CSV row) number in the batch file
    text: str = ""
    image: str | None = None
    id: str | None = None  # the CSV's id column, echoed back


def run_search(args: argparse.Namespace) -> int:
    from recsys.service.taillift import TailLiftService

    if args.batch is None and not args.text and not args.image:
        note("error: give a query text, --image PATH, both, or --batch FILE")
        return 2
    if args.batch is not None and (args.text or args.image):
        note("error: --batch reads the queries from FILE; give no query text or --image beside it")
        return 2
    if args.k < 1:
        note("error: -k must be at least 1")
        return 2
    try:
        queries = list(read_batch(args.batch)) if args.batch is not None else [Query(0, args.text, args.image)]
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        note(f"error: {exc}")
        return 2
    service = TailLiftService(get_settings())
    try:
        with ProgressReporter("search: loading models", unit="item") as progress:
            service.load_models(progress)
        if args.batch is None:
            return _one(service, queries[0], args)
        return _batch(service, queries, args)
    finally:
        service.close()  # let the query log land before the process exits


def _one(service: Any, query: Query, args: argparse.Namespace) -> int:
    try:
        result = search_one(service, query, args.k, tuple(args.category))
    except (OSError, ValueError) as exc:
        note(f"error: {exc}")
        return 2
    lines = [
        f"{r['rank']:>3}. #{r['item_id']:<6} {r['score']:>7.3f}  {r['title']}  [{r['category']}]"
        f"  (id {r['external_id']})"
        for r in result["results"]
    ]
    lines.append(
        f"({result['latency_ms']:.0f} ms, encoder {result['model_version']}, ranker {result['ranker_version']})"
    )
    emit(args, result, "\n".join(lines))
    return 0


def _batch(service: Any, queries: list[Query], args: argparse.Namespace) -> int:
    out, lines, failed = stdout(), [], 0
    started = time.perf_counter()
    for query in queries:
        try:
            row = search_one(service, query, args.k, tuple(args.category))
        except Exception as exc:  # one bad query (missing image, empty line, ...) must not end the batch
            expected = isinstance(exc, (OSError, ValueError))
            row = {
                "line": query.line,
                **({"id": query.id} if query.id is not None else {}),
                "query": query.text,
                "image": query.image,
                "error": str(exc) if expected else f"{type(exc).__name__}: {exc}",
            }
            failed += 1
        line = to_json(row, indent=None)
        print(line, file=out, flush=True)
        lines.append(line)
    if args.output:
        write_file(args.output, "".join(line + "\n" for line in lines))
    note(f"search: {len(queries)} queries, {failed} failed, {time.perf_counter() - started:.1f} s")
    return 0 if not failed else 1


def search_one(service: Any, query: Query, k: int, categories: tuple[str, ...] = ()) -> dict[str, Any]:
    """One query through the loaded service, as the JSON-ready dict the CLI prints."""
    from PIL import Image

    from recsys.search.filters import SearchFilters
    from recsys.search.types import SearchRequest

    if not query.text.strip() and not query.image:
        raise ValueError("empty query: give a text, an image, or both")
    image = None
    if query.image:
        with Image.open(query.image) as opened:
            image = opened.convert("RGB")
    response = service.search(
        SearchRequest(text=query.text, image=image, k=k, session_id="cli", filters=SearchFilters(category=categories))
    )
    items = service.get_items([h.item_id for h in response.hits])
    results = []
    for hit in response.hits:
        item = items.get(hit.item_id)
        results.append(
            {
                "rank": hit.rank,
                "item_id": hit.item_id,
                "external_id": item.external_id if item else None,
                "title": item.title if item else None,
                "category": item.category if item else None,
                "score": round(hit.score, 4),
                "why": hit.explanation,
            }
        )
    head: dict[str, Any] = {"line": query.line} if query.line else {}
    if query.id is not None:
        head["id"] = query.id
    return {
        **head,
        "query": query.text,
        "image": query.image,
        "latency_ms": round(response.latency_ms, 2),
        "model_version": response.model_version,
        "ranker_version": response.ranker_version,
        "facets": response.facets.counts,
        "results": results,
    }


def read_batch(path: str) -> Iterator[Query]:
    """The queries of a batch file (see the module doc); blank lines of a text file are skipped."""
    if path == "-":
        text, folder, is_csv = sys.stdin.read(), Path.cwd(), False
    else:
        file = Path(path)
        text, folder, is_csv = file.read_text(encoding="utf-8"), file.parent, file.suffix.lower() == ".csv"
    if not is_csv:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield Query(number, line.strip())
        return
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower(): c for c in reader.fieldnames or []}
    if "text" not in columns and "image" not in columns:
        raise ValueError(
            f"{path}: a batch CSV needs a 'text' and/or an 'image' column (found: "
            f"{', '.join(reader.fieldnames or []) or 'none'})"
        )
    for row in reader:
        text, image, ident = (
            (row.get(columns[name]) or "").strip() if name in columns else "" for name in ("text", "image", "id")
        )
        yield Query(reader.line_num, text, str(folder / image) if image else None, ident or None)
