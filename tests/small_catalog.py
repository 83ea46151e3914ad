"""A 30-item generated catalog (6 colours x 5 kinds, one flat-colour photo each) for search tests."""

from __future__ import annotations

import io

from PIL import Image

from recsys.accounts.principal import SYSTEM

COLOURS = {
    "red": (200, 20, 20),
    "blue": (20, 20, 200),
    "green": (20, 170, 20),
    "black": (12, 12, 12),
    "white": (240, 240, 240),
    "yellow": (230, 220, 20),
}
KINDS = {"shirt": "Shirts", "dress": "Dresses", "sneakers": "Shoes", "handbag": "Bags", "watch": "Watches"}


def photo(rgb, size=(60, 80)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, rgb).save(buf, "JPEG")
    return buf.getvalue()


def fill_small_catalog(service) -> None:
    for colour, rgb in COLOURS.items():
        for kind, category in KINDS.items():
            service.add_item(
                SYSTEM,
                {
                    "title": f"{colour.title()} cotton {kind}",
                    "category": f"Apparel > {category}",
                    "price": 10 + len(kind),
                    "attributes": {
                        "baseColour": colour.title(),
                        "articleType": category,
                        "gender": "Women" if kind == "dress" else "Men",
                    },
                },
                [photo(rgb)],
            )


def small_search_service_at(data_dir):
    """A TailLiftService over this catalog in ``data_dir`` with models loaded (heads stay untrained: 30 pairs)."""
    from recsys.config import Settings
    from recsys.service.taillift import TailLiftService

    service = TailLiftService(Settings.from_env({"data_dir": data_dir, "demo_limit": 0}, environ={}))
    fill_small_catalog(service)
    service.load_models()
    return service
