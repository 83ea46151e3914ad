"""Per-principal limits on expensive actions (bulk-import rows, training runs, reviews) over a sliding hour.

Only the system itself (start-up seeding, the operator at the command line) is not limited: training runs are
admins' actions, and they are limited too."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from recsys.accounts.principal import SYSTEM, Principal
from recsys.service.errors import NotAllowed

HOUR_S = 3600.0


class HourlyLimit:
    """At most ``per_hour`` units per key in any 60-minute window (0: unlimited)."""

    def __init__(self, what: str, per_hour: int) -> None:
        self.what, self.per_hour = what, per_hour
        self._spent: dict[str, deque[tuple[float, int]]] = defaultdict(deque)
        self._lock = threading.Lock()

    def require_room(self, actor: Principal, units: int = 1) -> None:
        """Raise NotAllowed when ``units`` more would pass the limit."""
        if self.per_hour <= 0 or actor == SYSTEM:
            return
        with self._lock:
            self._check(str(actor.name), units)

    def _check(self, key: str, units: int) -> None:
        used, oldest = self._used(key)
        if used + units > self.per_hour:
            wait = HOUR_S - (time.monotonic() - oldest) if oldest is not None else HOUR_S
            raise NotAllowed(
                f"not allowed: over the limit of {self.per_hour:,} {self.what} per hour "
                f"({used:,} used); try again in {max(wait, 60) / 60:.0f} min"
            )

    def record(self, actor: Principal, units: int) -> None:
        """Count what was done (an import's rows are known only after it ran)."""
        if self.per_hour > 0 and units > 0 and actor != SYSTEM:
            with self._lock:
                self._spent[str(actor.name)].append((time.monotonic(), units))

    def spend(self, actor: Principal, units: int = 1) -> None:
        """Check and count in one step (two concurrent calls cannot both pass the last unit)."""
        if self.per_hour <= 0 or actor == SYSTEM:
            return
        with self._lock:
            self._check(str(actor.name), units)
            self._spent[str(actor.name)].append((time.monotonic(), units))

    def _used(self, key: str) -> tuple[int, float | None]:
        spent, now = self._spent[key], time.monotonic()
        while spent and spent[0][0] <= now - HOUR_S:
            spent.popleft()
        return sum(n for _, n in spent), (spent[0][0] if spent else None)
