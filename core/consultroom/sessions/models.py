"""Server-side sessions: the browser's cookie holds only a random id, the row
is found by that id's SHA-256 (a stolen database cannot be replayed as
cookies), and records whose session it is so that one user's sessions can be
ended everywhere at once."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped


class StoredSession(OrganisationScoped, Base):
    __tablename__ = "server_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The site the session belongs to: an organisation, or None for the console.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    # When the session ends if unused (idle timeout, capped by the maximum
    # age), kept up to date when last_seen is, so that pruning is one query.
    expires_at: Mapped[datetime] = mapped_column(index=True)
