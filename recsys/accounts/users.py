"""Local accounts: create, look up, sign in. Plain functions over a Session, like the catalog repository."""

from __future__ import annotations

import functools
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from recsys.accounts.models import User
from recsys.accounts.passwords import hash_password, verify_password
from recsys.accounts.principal import ACCOUNT_ROLES, Principal

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")  # also a Hugging Face user name's shape
RESERVED = frozenset({"anonymous", "default", "demo", "system"})  # owners of built-in items and the app itself


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME.match(name):
        raise ValueError("a user name is 2-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if name.lower() in RESERVED:
        raise ValueError(f"{name!r} is reserved")
    return name


def create_user(session: Session, name: str, role: str, password: str | None) -> User:
    """A new local account (``password`` None: one that signs in through Hugging Face only)."""
    name = check_name(name)
    if role not in ACCOUNT_ROLES:
        raise ValueError(f"role must be one of {', '.join(ACCOUNT_ROLES)}")
    if find_user(session, name) is not None:
        raise ValueError(f"user {name!r} already exists")
    user = User(name=name, role=role, password_hash=None if password is None else hash_password(password))
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def sign_in(session: Session, name: str, password: str) -> Principal | None:
    """The account's principal when the password matches; None otherwise (never says which part was wrong)."""
    user = find_user(session, (name or "").strip())
    # An unknown name (or one without a password) costs one hash too: the timing does not tell which names exist.
    stored = user.password_hash if user is not None and user.password_hash else _unknown_user_hash()
    if not verify_password(password or "", stored) or user is None or not user.password_hash:
        return None
    return Principal(user.name, user.role)


@functools.cache
def _unknown_user_hash() -> str:
    return hash_password("no account has this password")  # made on first use, not at import (CLI start time)
