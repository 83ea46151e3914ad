"""The acting principal every service call carries: a name (None when anonymous) and one role."""

from __future__ import annotations

from dataclasses import dataclass

SHOPPER, MERCHANT, ADMIN = "shopper", "merchant", "admin"
ROLES = (SHOPPER, MERCHANT, ADMIN)
ACCOUNT_ROLES = (MERCHANT, ADMIN)  # what `users add --role` creates; shoppers need no account


@dataclass(frozen=True)
class Principal:
    name: str | None  # None: an anonymous shopper
    role: str = SHOPPER

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; one of {', '.join(ROLES)}")

    @property
    def signed_in(self) -> bool:
        return self.name is not None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def __str__(self) -> str:
        return f"{self.name or 'anonymous'} ({self.role})"


ANONYMOUS = Principal(None, SHOPPER)
# The app itself (first-start seeding, background refits) and the operator at the command line, who owns the files.
SYSTEM = Principal("system", ADMIN)
