"""Staff accounts and their single-use tokens (invitations, password resets)."""

import enum
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Enum, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.i18n import _
from consultroom.tenancy.models import Department, Organisation


class Role(enum.Enum):
    org_admin = "org_admin"
    dept_admin = "dept_admin"
    practitioner = "practitioner"
    superuser = "superuser"  # the hosting provider, on the console only

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.org_admin: _("Organisation admin"),
    Role.dept_admin: _("Department admin"),
    Role.practitioner: _("Practitioner"),
    Role.superuser: _("Hosting provider"),
}
STAFF_ROLES = (Role.org_admin, Role.dept_admin, Role.practitioner)


class User(OrganisationScoped, Base):
    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL for the hosting provider's superusers.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="RESTRICT"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(50), default="")
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    language: Mapped[str] = mapped_column(String(5), default="en")
    # Read only where it is shown: has_photo tells the pages whether it is there.
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    has_photo: Mapped[bool] = column_property(photo.is_not(None))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Raised to invalidate every session of this user at once.
    session_generation: Mapped[int] = mapped_column(default=0)

    organisation: Mapped[Organisation | None] = relationship()
    department: Mapped[Department | None] = relationship()

    @property
    def is_superuser(self):
        return self.role is Role.superuser


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class UserToken(Base):
    """A single-use secret sent by e-mail; only its hash is stored."""

    __tablename__ = "user_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship()

    @classmethod
    def issue(cls, user, purpose, valid_for: timedelta):
        """Create a token row and return ``(row, secret)``."""
        secret = secrets.token_urlsafe(32)
        row = cls(
            user=user,
            purpose=purpose,
            token_hash=hash_token(secret),
            expires_at=utcnow() + valid_for,
        )
        return row, secret
