"""What the encoders see of an item, and the texts built from it for each route."""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

# Attributes that describe how an item looks; they go into the joint (CLIP) text, other attributes do not.
VISUAL_ATTRIBUTES = ("colour", "color", "baseColour", "gender", "pattern", "material", "style")


@dataclass
class ItemContent:
    external_id: str
    title: str
    description: str = ""
    category: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    reviews: list[str] = field(default_factory=list)
    images: list[Image.Image] = field(default_factory=list)
    image_keys: list[str] = field(default_factory=list)  # content hashes of ``images`` when known (stored files)


def clip_text(title: str, category: str = "", attributes: dict[str, str] | None = None) -> str:
    """Short text for the joint space: title, leaf category and visual attributes.

    E.g. 'Navy shirt. Shirts, Navy Blue, Men'.

    Training pairs and item vectors use this same function, so the heads see one text format. Only the leaf of a
    'Apparel > Topwear > Shirts' path is kept: it is the specific part, and short texts suit the joint space.
    """
    attributes = attributes or {}
    leaf = category.split(">")[-1] if category else ""
    extras = [leaf] + [attributes[k] for k in VISUAL_ATTRIBUTES if attributes.get(k)]
    extras = [e.strip() for e in extras if e and e.strip()]
    return f"{title.strip()}. {', '.join(extras)}" if extras else title.strip()


def item_clip_text(item: ItemContent) -> str:
    return clip_text(item.title, item.category, item.attributes)


def item_bert_text(item: ItemContent) -> str:
    """Everything descriptive for MiniLM: title, category, all attributes, then the description."""
    attrs = "; ".join(f"{k}: {v}" for k, v in item.attributes.items() if v)
    parts = [item.title, item.category, attrs, item.description]
    return ". ".join(p.strip() for p in parts if p and p.strip())


def item_reviews_text(item: ItemContent, max_reviews: int = 20) -> str:
    return " ".join(r.strip() for r in item.reviews[:max_reviews] if r and r.strip())
