"""Models of consultroom.remotesupport: the single-use tokens that start a
remote-support session."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.accounts.models import User
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped


class SupportToken(OrganisationScoped, Base):
    """Lets the hosting provider's support user start one session as a staff
    member, shortly after asking on the console. Only the hash is stored."""

    __tablename__ = "support_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    support_user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    support_user: Mapped[User] = relationship(foreign_keys=[support_user_id])
