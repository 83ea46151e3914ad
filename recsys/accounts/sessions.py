"""Login sessions of the app: an unguessable token per signed-in browser tab, held in memory, expiring.

In memory on purpose: a restart signs everybody out, and a token never reaches the database or a log.
"""

from __future__ import annotations

import secrets
import threading
import time

from recsys.accounts.principal import Principal


class SessionTokens:
    def __init__(self, ttl_s: float = 12 * 3600) -> None:
        self.ttl_s = ttl_s
        self._tokens: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def issue(self, principal: Principal) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (principal, time.monotonic() + self.ttl_s)
        return token

    def resolve(self, token: str | None) -> Principal | None:
        if not token:
            return None
        with self._lock:
            found = self._tokens.get(token)
            if found is None:
                return None
            principal, expires = found
            if time.monotonic() > expires:
                del self._tokens[token]
                return None
            return principal

    def revoke(self, token: str | None) -> None:
        with self._lock:
            self._tokens.pop(token or "", None)
