"""Models of consultroom.audit: the entries of the audit trail and the head
of each organisation's chain."""

from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base
from consultroom.db.scope import OrganisationScoped

# The chain of the hosting provider's own events, which concern no organisation.
CONSOLE_CHAIN = 0
GENESIS = "0" * 64


class AuditEntry(OrganisationScoped, Base):
    """One event. ``hash`` covers every other column (but ``id``) and the
    previous entry's hash, so that changing, removing or inserting a row
    breaks the chain of its organisation."""

    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("organisation_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not a foreign key: the trail must outlive what it describes.
    organisation_id: Mapped[int] = mapped_column()
    seq: Mapped[int] = mapped_column()  # 1, 2, 3… within the organisation's chain
    at: Mapped[datetime] = mapped_column()
    # Ids and names as they were: people are renamed and deleted later.
    user_id: Mapped[int | None] = mapped_column(default=None, index=True)
    user_name: Mapped[str] = mapped_column(String(200), default="")
    support_user_id: Mapped[int | None] = mapped_column(default=None)
    support_user_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(40), default=None)
    object_id: Mapped[str | None] = mapped_column(String(100), default=None)
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def __init__(self, **values):
        # Every hashed column set now: column defaults would only be filled
        # in at INSERT, after the hash was taken.
        super().__init__(**{**ENTRY_DEFAULTS, **values})


ENTRY_DEFAULTS = {
    "user_id": None,
    "user_name": "",
    "support_user_id": None,
    "support_user_name": "",
    "object_type": None,
    "object_id": None,
    "address": "",
    "detail": {},
}


class AuditChain(Base):
    """The head of one organisation's chain: locked while an entry is
    appended, so that concurrent writers line up behind each other; and it
    remembers the length, so that removing the last entries shows."""

    __tablename__ = "audit_chain"

    organisation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    length: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
