"""Small rendering helpers shared by the tabs: everything a user typed is HTML-escaped before display."""
from __future__ import annotations

import html

from ..catalog.demo import DEMO_REVIEW_SOURCE
from ..catalog.views import ItemView

DEMO_REVIEW_NOTE = (
    "Reviews marked *similar garment* are real customer reviews of a similar garment of the same clothing class "
    "(Women's E-Commerce Clothing Reviews data set), attached to demo items: they are not reviews of this exact item."
)


# Markdown syntax a merchant could use to inject links, images or formatting into shoppers' pages.
_MARKDOWN = {c: f"&#{ord(c)};" for c in "[]()!*_`#|~\\"}


def esc(text: object) -> str:
    """Escape user text for gr.Markdown: HTML first, then Markdown's own syntax characters."""
    escaped = html.escape(str(text or ""), quote=True)
    return escaped.translate(str.maketrans(_MARKDOWN))


def stars(rating: float) -> str:
    full = int(round(rating))
    return "★" * full + "☆" * (5 - full)


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
    lines = [f"### {esc(item.title)}", f"**Item #{item.id}** · id {esc(item.external_id)} · merchant {esc(item.merchant)}  "]
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
