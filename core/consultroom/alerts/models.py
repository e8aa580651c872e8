"""The devices where staff want to hear of an arriving client (web push
subscriptions), and the installation's own push key."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped


class PushSubscription(OrganisationScoped, Base):
    """One browser of one staff member, as its push service identifies it."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))  # the browser's public key
    auth: Mapped[str] = mapped_column(String(100))  # its authentication secret
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstallationKey(Base):
    """A key of the whole installation, made at its first use and kept
    encrypted with the secret box: the VAPID key that signs push messages
    (browsers tie a subscription to it, so it must outlive restarts)."""

    __tablename__ = "installation_key"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
