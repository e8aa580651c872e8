"""Models of consultroom.twofactor: a user's TOTP secret and recovery codes.

The secret is stored encrypted (see ``consultroom.secretbox``); a
recovery code only as a keyed hash.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base, utcnow


class TwoFactor(Base):
    """One user's authenticator; ``confirmed_at`` is empty while enrolling."""

    __tablename__ = "two_factor"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    secret_encrypted: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The last TOTP time step accepted: a code of this step or an earlier one
    # is refused, so each code works once.
    last_step: Mapped[int] = mapped_column(default=0)

    @property
    def confirmed(self):
        return self.confirmed_at is not None


class RecoveryCode(Base):
    __tablename__ = "two_factor_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)
