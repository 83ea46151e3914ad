"""Who is calling: local accounts and their login sessions, Hugging Face sign-in, and the first admin.

The UI and the API hand the service a login token or a Hugging Face user name; ``principal`` turns it into the
``Principal`` every service call is checked against. Names and passwords never appear in a refusal or a log.
"""

from __future__ import annotations

import logging

from recsys.accounts import users
from recsys.accounts.principal import ADMIN, ANONYMOUS, MERCHANT, Principal
from recsys.accounts.sessions import SessionTokens
from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.service.errors import NotAllowed
from recsys.service.limits import HourlyLimit
from recsys.service.permissions import require

log = logging.getLogger(__name__)
FAILED_SIGN_INS_PER_HOUR = 20


class Identity:
    def __init__(self, store: CatalogStore, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self.tokens = SessionTokens()
        # Failed sign-ins per user name: each costs a memory-hard hash, and guessing must stay slow.
        self.failed_sign_ins = HourlyLimit("failed sign-ins", FAILED_SIGN_INS_PER_HOUR)

    def principal(self, token: str | None = None, hf_user: str | None = None) -> Principal:
        """The caller: a signed-in local account (token), a Hugging Face user (merchant, or admin when listed in
        ``RECSYS_ADMINS``), or an anonymous shopper."""
        found = self.tokens.resolve(token)
        if found is not None:
            return found
        if hf_user and self._hf_name_usable(hf_user):
            return Principal(hf_user, ADMIN if hf_user in self.settings.admin_names else MERCHANT)
        return ANONYMOUS

    def _hf_name_usable(self, name: str) -> bool:
        """A Hugging Face name may act as a merchant unless it is reserved (the demo's owner, ...) or a local
        account has it: a stranger with the same HF name must not get that account's items."""
        if name.strip().lower() in users.RESERVED:
            log.warning("a Hugging Face sign-in with a reserved name was treated as a guest")
            return False
        with self.store.sessions() as session:
            if users.find_user(session, name) is not None:
                log.warning("a Hugging Face sign-in named like a local account was treated as a guest")
                return False
        return True

    def sign_in(self, name: str, password: str) -> str:
        """A login token for a local account; NotAllowed (saying nothing about which part was wrong) otherwise."""
        attempt = Principal(f"sign-in:{(name or '').strip().lower()}")  # the key the attempts are counted under
        self.failed_sign_ins.require_room(attempt)
        with self.store.sessions() as session:
            principal = users.sign_in(session, name, password)
        if principal is None:
            self.failed_sign_ins.record(attempt, 1)
            raise NotAllowed("not allowed: unknown user name or wrong password")
        return self.tokens.issue(principal)

    def sign_out(self, token: str | None) -> None:
        self.tokens.revoke(token)

    def add_user(self, actor: Principal, name: str, role: str, password: str | None) -> Principal:
        """A new local account (admins only; the CLI acts as the system admin)."""
        require(actor, "manage users")
        with self.store.sessions.begin() as session:
            user = users.create_user(session, name, role, password)
            return Principal(user.name, user.role)

    def list_users(self, actor: Principal) -> list[Principal]:
        require(actor, "manage users")
        with self.store.sessions() as session:
            return [Principal(u.name, u.role) for u in users.list_users(session)]

    def ensure_first_admin(self) -> None:
        """``RECSYS_ADMIN_USER`` / ``RECSYS_ADMIN_PASSWORD``: create that admin if it does not exist yet (a fresh
        Space has an empty database at every boot). There is no default password."""
        name, password = self.settings.admin_user.strip(), self.settings.admin_password
        if not name or not password:
            return
        with self.store.sessions.begin() as session:
            if users.find_user(session, name) is None:
                users.create_user(session, name, ADMIN, password)
                log.info("created the first admin account from RECSYS_ADMIN_USER")
