"""``python -m recsys search "TEXT" [--image PATH] [-k 10] [--json]``."""
from __future__ import annotations

import argparse
import json

from PIL import Image

from .config import get_settings


def add_search_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="search the catalog by text and/or image")
    p.add_argument("text", nargs="?", default="")
    p.add_argument("--image", help="query image file")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--category", action="append", default=[], help="article type filter (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_search)


def run_search(args: argparse.Namespace) -> int:
    from recsys.search.types import SearchRequest
    from .search.filters import SearchFilters
    from recsys.service.taillift import TailLiftService

    if not args.text and not args.image:
        print("error: give a query text, --image PATH, or both")
        return 2
    service = TailLiftService(get_settings())
    service.load_models()
    image = Image.open(args.image).convert("RGB") if args.image else None
    response = service.search(SearchRequest(text=args.text, image=image, k=args.k, session_id="cli",
                                            filters=SearchFilters(category=tuple(args.category))))
    items = service.get_items([h.item_id for h in response.hits])
    service.close()  # let the query log land before the process exits
    rows = [{"rank": h.rank, "item_id": h.item_id, "title": items[h.item_id].title, "category": items[h.item_id].category,
             "score": round(h.score, 4), "why": h.explanation} for h in response.hits]
    if args.json:
        print(json.dumps({"query": args.text, "image": args.image, "latency_ms": response.latency_ms,
                          "model_version": response.model_version, "ranker_version": response.ranker_version,
                          "facets": response.facets.counts, "results": rows}, indent=2))
    else:
        for row in rows:
            print(f"{row['rank']:>3}. #{row['item_id']:<6} {row['score']:>7.3f}  {row['title']}  [{row['category']}]")
        print(f"({response.latency_ms:.0f} ms, encoder {response.model_version}, ranker {response.ranker_version})")
    return 0
