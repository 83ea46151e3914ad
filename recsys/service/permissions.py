"""Who may do what: one table of actions and the roles allowed them, and the ownership rule for items.

The service calls ``require`` / ``require_owner`` before every change; nothing below the service checks roles.
A refusal says what is needed, never who owns an item.
"""

from __future__ import annotations

from recsys.accounts.principal import ADMIN, MERCHANT, SHOPPER, Principal
from recsys.service.errors import NotAllowed

SIGNED_IN = "signed in"  # any role, as long as the caller has an account

# action -> the roles allowed it (SIGNED_IN: every role, but not anonymously)
ACTIONS: dict[str, tuple[str, ...]] = {
    "search": (SHOPPER, MERCHANT, ADMIN),
    "review": (SIGNED_IN,),
    "edit items": (MERCHANT, ADMIN),  # and only one's own, unless admin (require_owner)
    "import": (MERCHANT, ADMIN),
    "import events": (MERCHANT, ADMIN),  # of one's own items, unless admin
    "train encoder": (ADMIN,),
    "serve encoder": (ADMIN,),  # activate / roll back
    "retrain ranker": (ADMIN,),
    "evaluate": (ADMIN,),
    "collect image garbage": (ADMIN,),
    "manage users": (ADMIN,),
}


def allowed(actor: Principal, action: str) -> bool:
    roles = ACTIONS[action]
    return actor.role in roles or (SIGNED_IN in roles and actor.signed_in)


def require(actor: Principal, action: str) -> None:
    if allowed(actor, action):
        return
    roles = ACTIONS[action]
    if not actor.signed_in:
        raise NotAllowed(f"not allowed: sign in to {action}")
    needed = "an admin" if roles == (ADMIN,) else "a merchant or admin"
    raise NotAllowed(f"not allowed: {action} needs {needed} account")


def require_owner(actor: Principal, owner: str) -> None:
    """Merchants change only their own items; admins change every merchant's."""
    require(actor, "edit items")
    if not actor.is_admin and actor.name != owner:
        raise NotAllowed("not allowed: that item is not yours")


def acting_merchant(actor: Principal, merchant: str | None, default: str) -> str:
    """The merchant a new item or import belongs to: a merchant's own name; an admin may name any merchant
    (``default`` when none is named)."""
    if actor.is_admin:
        return merchant or default
    require(actor, "edit items")
    if merchant not in (None, "", actor.name):
        raise NotAllowed("not allowed: merchants add items under their own name only")
    assert actor.name is not None  # require() refused anonymous callers
    return actor.name
