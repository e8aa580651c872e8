"""Organisations (the tenants) and their departments."""

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import JSON, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationRow, OrganisationScoped
from consultroom.tenancy.options import ADVANCED_SETTINGS

API_KEY_PREFIX = "crk_"
API_KEY_HINT_LENGTH = 8  # the start of a key that is kept, to recognise it by
# An organisation's options, with the settings dict they were worked out from.
_OPTIONS = "_consultroom_options"


class Organisation(OrganisationRow, Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    subdomain: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    max_users: Mapped[int] = mapped_column(default=10)
    language: Mapped[str] = mapped_column(String(5), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")

    # What clients see: contact information and the practice's look.
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    contact_address: Mapped[str] = mapped_column(String(500), default="")
    contact_website: Mapped[str] = mapped_column(String(500), default="")
    primary_colour: Mapped[str] = mapped_column(String(7), default="#1f6f8b")
    accent_colour: Mapped[str] = mapped_column(String(7), default="#f4a259")
    # Read only by the logo's own address: every page loads the organisation,
    # and asks has_logo.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    has_logo: Mapped[bool] = column_property(logo.is_not(None))
    # An installed theme's name (consultroom.web.themes); "" for the
    # installation's. Custom CSS as consultroom.web.safecss cleaned it.
    theme: Mapped[str] = mapped_column(String(63), default="")
    custom_css: Mapped[str] = mapped_column(Text, default="")

    # How practitioners are addressed, per language: {"nl": "dokter", ...}.
    address_forms: Mapped[dict] = mapped_column(JSON, default=dict)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # Shown to clients who are on time; *|placeholders|* are filled in.
    waiting_room_text: Mapped[str] = mapped_column(Text, default="")
    # Sites allowed to embed the booking and walk-in widgets in an iframe.
    embed_origins: Mapped[list] = mapped_column(JSON, default=list)

    api_key_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    api_key_hint: Mapped[str] = mapped_column(String(12), default="")

    departments: Mapped[list["Department"]] = relationship(
        back_populates="organisation", order_by="Department.name"
    )

    def addressed(self, name, language):
        """A practitioner's ``name`` as clients reading ``language`` see it:
        after the organisation's form of address in that language ("dokter
        Jansen"), or as it is when there is none for it."""
        form = (self.address_forms or {}).get(language, "")
        return f"{form} {name}" if form and name else name

    @property
    def options(self):
        """The advanced settings, typed, with defaults filled in: a dict of
        the caller's own. Worked out once for each ``settings`` dict (every
        change replaces it), as a staff page reads them three or four times
        (20 us each)."""
        settings = self.settings
        known = self.__dict__.get(_OPTIONS)
        if known is None or known[0] is not settings:
            known = self.__dict__[_OPTIONS] = (settings, ADVANCED_SETTINGS.values(settings))
        return dict(known[1])

    def options_with_secrets(self, box):
        """The advanced settings with their secrets decrypted with ``box``
        (the secret box): for the code that uses a secret, never for a page."""
        return ADVANCED_SETTINGS.opened(self.options, box)

    def rotate_api_key(self):
        """Make a new API key, store its hash and return it: shown only once."""
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        self.api_key_hash = hash_api_key(key)
        self.api_key_hint = key[:API_KEY_HINT_LENGTH]
        return key


def hash_api_key(key):
    # The key has 256 random bits, so a fast hash is safe and lets us look
    # organisations up by it.
    return hashlib.sha256(key.encode()).hexdigest()


class Department(OrganisationScoped, Base):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Told of each client arriving in the department's waiting list (alerts).
    arrival_email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="departments")
