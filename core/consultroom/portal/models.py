"""The PINs that open a client's portal: one live PIN per client at a time,
stored as a keyed hash, with the wrong tries counted on the row."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped


class PortalPin(OrganisationScoped, Base):
    __tablename__ = "portal_pin"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), index=True, unique=True
    )
    # HMAC of the PIN under the installation's secret (pins.digest): six
    # digits hashed without a key would be read back from a copied database.
    pin_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    wrong_tries: Mapped[int] = mapped_column(default=0)
