"""Recorded failures (logins, tokens) that rate limits count."""
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
