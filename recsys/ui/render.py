"""Small rendering helpers shared by the tabs: everything a user typed is escaped once before display."""

from __future__ import annotations

import re

from recsys.catalog.demo import DEMO_REVIEW_SOURCE
from recsys.catalog.views import ItemView

DEMO_REVIEW_NOTE = (
    "Reviews marked *similar garment* are real customer reviews of a similar garment of the same clothing class "
    "(Women's E-Commerce Clothing Reviews data set), attached to demo items: they are not reviews of this exact item."
)


# Each character that HTML (& < >), Markdown (lists, links, emphasis, headings, tables, code), math ($$) or
# autolinks (www., http:, a@b) act on becomes an entity, in one pass, and an entity is shown as its character,
# once. Escaping in two passes (HTML, then Markdown over the result) showed "Men's" as "Men&#x27;s".
_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~$:@^"}}
)
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")


def esc(text: object) -> str:
    """User text as gr.Markdown shows it exactly as typed, on one Markdown line (breaks become <br>)."""
    return _LINE_BREAK.sub("<br>", str("" if text is None else text).translate(_ENTITIES))


def stars(rating: float) -> str:
    full = int(round(rating))
    return "★" * full + "☆" * (5 - full)


# Gallery captions are one cut line over the photo's foot by default ("#3359 Lee Wome..."). Here the tile is a
# column: the photo at the catalog's 3:4, whole, then the caption below it, wrapped, so title, price and reason show
# in full without covering the product. A <style> element applies page-wide; each tab with such a gallery injects it
# (``caption_style``).
CAPTION_CSS = (
    ".result-gallery .thumbnail-item { aspect-ratio: auto !important; height: auto !important; display: flex;"
    " flex-direction: column; align-items: stretch; }"
    " .result-gallery .thumbnail-item img { aspect-ratio: 3 / 4; object-fit: contain; width: 100%; height: auto;"
    " flex: none; }"
    " .result-gallery .caption-label { position: static !important; white-space: normal; max-width: 100%; }"
)


def caption_style() -> str:
    return f"<style>{CAPTION_CSS}</style>"


# What a search hit's ``matched`` field says, in the shopper's words (caption and detail).
MATCHED_LABELS = {
    "text": "text match",
    "photo": "photo match",
    "both": "text + photo match",
    "weak": "weak match",
    "similar": "similar item",
}


def matched_label(matched: str) -> str:
    return MATCHED_LABELS.get(matched, matched)


def gallery_caption(item: ItemView, extra: str = "") -> str:
    # Gradio shows captions as plain text, so no escaping is needed here.
    parts = [f"#{item.id} {item.title}"]
    if item.price_label:
        parts.append(item.price_label)
    if extra:
        parts.append(extra)
    return " · ".join(parts)


def item_markdown(item: ItemView) -> str:
    # Header lines end in two spaces: a Markdown line break, so each field gets its own line.
    lines = [
        f"### {esc(item.title)}",
        f"**Item #{item.id}** · id {esc(item.external_id)} · merchant {esc(item.merchant)}  ",
    ]
    if item.category:
        lines.append(f"**Category:** {esc(item.category)}  ")
    if item.price_label:
        lines.append(f"**Price:** {esc(item.price_label)}  ")
    if item.brand:
        lines.append(f"**Brand:** {esc(item.brand)}  ")
    if item.attributes:
        lines.append("**Attributes:** " + ", ".join(f"{esc(k)}: {esc(v)}" for k, v in item.attributes.items()) + "  ")
    if item.description:
        lines += ["", esc(item.description)]
    lines += ["", f"#### Reviews ({len(item.reviews)})"]
    if item.reviews:
        lines.append(f"Average {item.rating_mean:.1f} {stars(item.rating_mean or 0)}")
    if any(r.source == DEMO_REVIEW_SOURCE for r in item.reviews):
        lines.append(f"> {DEMO_REVIEW_NOTE}")
    for review in item.reviews[:20]:
        tag = " *(similar garment)*" if review.source == DEMO_REVIEW_SOURCE else ""
        title = f"**{esc(review.title)}** " if review.title else ""
        lines.append(f"- {stars(review.rating)} {title}{esc(review.text)}{tag}")
    if not item.reviews:
        lines.append("No reviews yet.")
    return "\n".join(lines)
