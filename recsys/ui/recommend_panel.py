"""The shopper's recommendations on the Search tab: "For you", the opened item's lists, a demo cart.

Plain functions, one per event (tested without a browser), over the service's thin methods; every list item's
caption carries its one-line reason. The shopper is this browser's anonymous id (``gr.BrowserState``, kept
across reloads) and, when signed in, the account too.
"""

from __future__ import annotations

import os
import secrets
import uuid
from typing import Any

import gradio as gr

from recsys.accounts.principal import ANONYMOUS, Principal
from recsys.config import Settings
from recsys.service.errors import NotFound
from recsys.service.recommendations import Recommended
from recsys.service.taillift import TailLiftService
from recsys.ui.account import caller
from recsys.ui.i18n import t
from recsys.ui.placeholder import placeholder_image
from recsys.ui.render import esc, gallery_caption, item_markdown

ITEM_LIST = 8
LISTS = (
    ("similar", t("Similar items")),
    ("bought_together", t("Often bought together")),
    ("also_viewed", t("Shoppers also viewed")),
)


def browser_secret(settings: Settings) -> str:
    """The key this deployment signs browser-stored ids with: made once, kept in the data dir, so an id survives
    restarts and a visitor cannot forge another's."""
    path = settings.data_dir / "browser-state.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(secrets.token_hex(32))
        os.replace(tmp, path)
    return path.read_text().strip()


def shopper_state(settings: Settings) -> gr.BrowserState:
    return gr.BrowserState("", storage_key="taillift-shopper", secret=browser_secret(settings))


def shopper_id(stored: str | None) -> str:
    """This browser's anonymous id: the stored one, or a new one on a first visit."""
    return stored if stored and len(stored) <= 64 else uuid.uuid4().hex


def acting(service: TailLiftService, token: str | None) -> Principal:
    return caller(service, token) if token else ANONYMOUS


def entries(service: TailLiftService, rows: list[Recommended]) -> tuple[list, list[dict]]:
    """Gallery entries (picture, caption with the reason) and the rows behind them."""
    views = service.get_items([r.item_id for r in rows], with_reviews=False)
    shown, state = [], []
    for row in rows:
        view = views.get(row.item_id)
        if view is None:  # deleted since the fit
            continue
        picture = str(view.images[0].path) if view.images else placeholder_image()
        shown.append((picture, gallery_caption(view, row.reason)))
        state.append({"item_id": row.item_id, "reason": row.reason})
    return shown, state


def for_you(service: TailLiftService, shopper: str, token: str | None = None) -> tuple[list, list[dict], Any]:
    """(gallery, rows, note) of the shopper's "For you" list."""
    rows = service.for_you(acting(service, token), shopper, service.settings.for_you_items)
    if not rows:
        return [], [], t("Recommendations appear once the catalog has been read (a few seconds after start).")
    shown, state = entries(service, rows)
    personal = rows[0].reason.startswith("for you")
    note = t("From what you looked at and bought.") if personal else t("A mix of every kind, new finds included.")
    return shown, state, note


def item_lists(service: TailLiftService, item_id: int | None) -> list[Any]:
    """Gallery and rows for each of ``LISTS`` of the opened item (empty lists when none is open)."""
    out: list[Any] = []
    lists = service.item_lists(int(item_id), ITEM_LIST) if item_id is not None else {}
    for name, _ in LISTS:
        shown, state = entries(service, lists.get(name, []))
        out += [shown, state]
    return out


def opened(service: TailLiftService, item_id: int | None, shopper: str, token: str | None = None) -> list[Any]:
    """An item page was opened: record the view, then its lists and the refreshed "For you"."""
    if item_id is not None:
        try:
            service.record(acting(service, token), shopper, int(item_id), "view")
        except (NotFound, ValueError):  # deleted meanwhile: nothing to record
            pass
    return [*item_lists(service, item_id), *for_you(service, shopper, token)]


def open_listed(service: TailLiftService, rows: list[dict], index: int | None) -> tuple[str, list, int | None]:
    """(detail markdown, images, item id) of a recommended item picked from a list."""
    if index is None or index >= len(rows):
        return "Select an item.", [], None
    try:
        item = service.get_item(rows[index]["item_id"])
    except NotFound as exc:
        return esc(exc), [], None
    return item_markdown(item) + f"\n\n*{esc(rows[index]['reason'])}*", [str(i.path) for i in item.images], item.id


def cart_view(service: TailLiftService, cart: list[int]) -> str:
    if not cart:
        return "Your cart is empty: open an item and add it."
    views = service.get_items(cart, with_reviews=False)
    lines = [f"- #{i} {esc(views[i].title)} {esc(views[i].price_label)}" for i in cart if i in views]
    return "**Your cart**\n\n" + "\n".join(lines)


def add_to_cart(
    service: TailLiftService, item_id: int | None, cart: list[int] | None, shopper: str, token: str | None = None
) -> tuple[list[int], str, list, list[dict], str]:
    """(cart, cart markdown, "Complete your basket" gallery and rows, message); records a cart event."""
    cart = list(cart or [])
    if item_id is None:
        return cart, cart_view(service, cart), *completion(service, cart), "Open an item first."
    try:
        service.record(acting(service, token), shopper, int(item_id), "cart")
    except (NotFound, ValueError) as exc:
        return cart, cart_view(service, cart), *completion(service, cart), esc(exc)
    if int(item_id) not in cart:
        cart.append(int(item_id))
    return cart, cart_view(service, cart), *completion(service, cart), f"Added #{int(item_id)} to your cart."


def completion(service: TailLiftService, cart: list[int]) -> tuple[list, list[dict]]:
    return entries(service, service.complete_basket(cart, ITEM_LIST)) if cart else ([], [])


def buy(
    service: TailLiftService, cart: list[int] | None, shopper: str, token: str | None = None
) -> tuple[list[int], str, list, list[dict], str]:
    """Place the demo order (no payment): one purchase event per item, all with one new order id."""
    cart = list(cart or [])
    if not cart:
        return cart, cart_view(service, cart), [], [], "Nothing to buy: the cart is empty."
    order = f"order-{uuid.uuid4().hex[:12]}"
    actor = acting(service, token)
    bought = 0
    for item_id in cart:
        try:
            service.record(actor, shopper, item_id, "purchase", order_id=order)
            bought += 1
        except NotFound:  # an item deleted while in the cart is simply not bought
            continue
    return (
        [],
        cart_view(service, []),
        [],
        [],
        f"Order {order} placed: {bought} item{'s' * (bought != 1)} (demo, no payment).",
    )


# --- layout and wiring (called from ``search_tab.build``) ------------------------------------------------------


def build_for_you() -> tuple[gr.Markdown, gr.Gallery, gr.State]:
    """The "For you" column: shown before any query and beside the results."""
    gr.Markdown(t("#### For you"))
    note = gr.Markdown(elem_id="for-you-note")
    gallery = gr.Gallery(
        columns=2, height=540, allow_preview=False, elem_id="for-you", elem_classes=["result-gallery"], show_label=False
    )
    return note, gallery, gr.State([])


def build_item_panel() -> dict[str, Any]:
    """Below the opened item: the cart buttons, its three lists, the cart and "Complete your basket"."""
    parts: dict[str, Any] = {}
    with gr.Row():
        parts["add"] = gr.Button(t("Add to cart"), elem_id="add-to-cart")
        parts["buy"] = gr.Button(t("Buy"), variant="primary", elem_id="buy")
    parts["message"] = gr.Markdown(elem_id="cart-message")
    with gr.Row():
        for name, label in LISTS:
            parts[name] = gr.Gallery(  # wrapped captions (result-gallery): each item's reason shows in full
                label=label,
                columns=2,
                height=440,
                allow_preview=False,
                elem_id=f"list-{name.replace('_', '-')}",
                elem_classes=["result-gallery"],
            )
            parts[name + "_rows"] = gr.State([])
    with gr.Row():
        parts["cart_md"] = gr.Markdown(t("Your cart is empty: open an item and add it."), elem_id="cart")
        parts["complete"] = gr.Gallery(
            label=t("Complete your basket"),
            columns=4,
            height=380,
            allow_preview=False,
            elem_id="complete-basket",
            elem_classes=["result-gallery"],
        )
    parts["complete_rows"] = gr.State([])
    parts["cart"] = gr.State([])
    return parts


def wire(
    service: TailLiftService,
    demo: gr.Blocks,
    for_you_parts: tuple[gr.Markdown, gr.Gallery, gr.State],
    parts: dict[str, Any],
    opened_event: Any,
    current: gr.State,
    detail: gr.Markdown,
    detail_images: gr.Gallery,
    shopper: gr.BrowserState,
    token: gr.State,
) -> None:
    """The panel's events; ``opened_event`` is the search tab's "item opened" event (a view is recorded after it)."""
    note, gallery, rows = for_you_parts
    lists_out = [x for name, _ in LISTS for x in (parts[name], parts[name + "_rows"])]
    after_open = [*lists_out, gallery, rows, note]

    def first_load(stored: str | None, tok: str) -> tuple:
        sid = shopper_id(stored)
        return (sid, *for_you(service, sid, tok))

    def pick(state: list[dict], evt: gr.SelectData) -> tuple[str, list, int | None]:
        return open_listed(service, state, evt.index)

    demo.load(first_load, [shopper, token], [shopper, gallery, rows, note], api_visibility="private")
    record_open = lambda item_id, sid, tok: opened(service, item_id, sid, tok)  # noqa: E731
    opened_event.then(record_open, [current, shopper, token], after_open, api_visibility="private")
    for list_gallery, list_rows in [(gallery, rows), *[(parts[n], parts[n + "_rows"]) for n, _ in LISTS]]:
        picked = list_gallery.select(
            pick,
            [list_rows],
            [detail, detail_images, current],
            api_visibility="private",
        )
        picked.then(record_open, [current, shopper, token], after_open, api_visibility="private").then(
            None, js="() => document.getElementById('result-detail')?.scrollIntoView({block: 'start'})"
        )
    cart_out = [parts["cart"], parts["cart_md"], parts["complete"], parts["complete_rows"], parts["message"]]
    parts["add"].click(
        lambda item_id, cart, sid, tok: add_to_cart(service, item_id, cart, sid, tok),
        [current, parts["cart"], shopper, token],
        cart_out,
        api_visibility="private",
    )
    parts["buy"].click(
        lambda cart, sid, tok: buy(service, cart, sid, tok),
        [parts["cart"], shopper, token],
        cart_out,
        api_visibility="private",
    ).then(
        lambda sid, tok: for_you(service, sid, tok), [shopper, token], [gallery, rows, note], api_visibility="private"
    )
    parts["complete"].select(
        pick,
        [parts["complete_rows"]],
        [detail, detail_images, current],
        api_visibility="private",
    ).then(record_open, [current, shopper, token], after_open, api_visibility="private")
