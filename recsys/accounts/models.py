"""The accounts table, in the catalog database (same metadata, so Alembic sees one schema)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from recsys.catalog.models import Base, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # also the merchant name of their items
    role: Mapped[str] = mapped_column(String(20))  # recsys.accounts.principal.ROLES
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)  # None: signs in through HF only
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
