"""Recorded failures (logins, tokens) that rate limits count, and the row
per limited key that serialises checking and counting its failures."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base, utcnow


class Failure(Base):
    __tablename__ = "rate_limit_failure"
    __table_args__ = (Index("ix_rate_limit_failure_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LimitedKey(Base):
    """Written (and so locked until commit) by a request before it reads and
    counts the key's failures: a concurrent request for the same key waits
    for it on PostgreSQL, and SQLite has one writer at a time anyway."""

    __tablename__ = "rate_limit_key"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
