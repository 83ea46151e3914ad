"""Reviews written for these tests (not real reviews): (item, rating, title, text).

Item "tight dress" is mostly said to run small; "soft sweater" is praised for fabric and comfort; "pilling top"
draws quality complaints; "plain tee" has a single review (for shrinkage).
"""

from __future__ import annotations

TIGHT, SWEATER, PILLING, PLAIN = "tight dress", "soft sweater", "pilling top", "plain tee"

REVIEWS: list[tuple[str, int, str, str]] = [
    (TIGHT, 2, "Runs small", "I ordered my usual size and it was too tight. The colour is lovely though."),
    (TIGHT, 3, "Size up", "This dress runs small, size up. The fabric is nice and thick."),
    (TIGHT, 2, "Too small", "Way too small in the bust. I had to return it."),
    (TIGHT, 4, "Pretty but snug", "Beautiful print. It runs small so I sized up and it fits well now."),
    (TIGHT, 1, "Tiny", "Runs very small, could not zip it up. Terrible fit."),
    (TIGHT, 5, "Gorgeous", "The colour is gorgeous and it looks stunning on."),
    (SWEATER, 5, "So soft", "The fabric is incredibly soft and cozy. So comfortable to wear all day."),
    (SWEATER, 5, "Love it", "Soft material, very comfortable, and it fits true to size."),
    (SWEATER, 4, "Cozy", "Very comfy sweater. The knit is soft and warm."),
    (SWEATER, 5, "Perfect", "Fits perfectly and the cashmere feels amazing. Great value for the price."),
    (SWEATER, 5, "Well made", "Excellent quality and very well made. It is durable and has held up after many washes."),
    (SWEATER, 2, "Itchy", "The wool is itchy and scratchy. Uncomfortable against the skin."),
    (PILLING, 1, "Poor quality", "It pilled after one wash. Cheaply made and the seams came apart."),
    (PILLING, 2, "Fell apart", "The stitching unraveled within a week. Poor quality for the price."),
    (PILLING, 1, "Holes", "Got a hole after the first wash. Very poorly made."),
    (PILLING, 4, "Cute style", "Cute and stylish top, looks great with jeans. Shipping was fast."),
    (PILLING, 2, "Overpriced", "Way too expensive for such flimsy material. Not worth the money."),
    (PLAIN, 2, "Shrank", "It shrank in the wash and the quality is poor."),
]
