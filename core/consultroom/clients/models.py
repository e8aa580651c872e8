"""Clients, the groups of external participants, and those participants."""

import secrets
from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.accounts.models import User
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.i18n import _
from consultroom.tenancy.models import Department

client_department = Table(
    "client_department",
    Base.metadata,
    Column("client_id", ForeignKey("client.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)
client_practitioner = Table(
    "client_practitioner",
    Base.metadata,
    Column("client_id", ForeignKey("client.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)
# The search index of clients (``clients.search``): made by migration 0009,
# not by these models, under names starting with this.
SEARCH_INDEX = "client_search"
Base.metadata.info.setdefault("unmodelled_prefixes", set()).add(SEARCH_INDEX)

participant_group = Table(
    "participant_group",
    Base.metadata,
    Column("participant_id", ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "group_id", ForeignKey("participant_group_def.id", ondelete="CASCADE"), primary_key=True
    ),
)


# The last name stored for a walk-in who gave none: the untranslated text
# (the visitor's language is not the staff's), translated where it is shown.
WALK_IN_NAME = _("Walk-in visitor")


def new_token():
    """An unguessable link token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class Person:
    """The fields a client and an external participant share."""

    initials: Mapped[str] = mapped_column(String(20), default="")
    last_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date, default=None)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    client_number: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(5), default="en")

    @property
    def display_name(self):
        """The name to show; for a walk-in who gave none, a translation
        string (``WALK_IN_NAME``) for the page or list to translate."""
        if self.last_name == WALK_IN_NAME and not self.initials:
            return WALK_IN_NAME
        return f"{self.initials} {self.last_name}".strip()


class Client(OrganisationScoped, Person, Base):
    __tablename__ = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The client's own link to their portal (upcoming appointments).
    portal_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)

    departments: Mapped[list[Department]] = relationship(secondary=client_department)
    practitioners: Mapped[list[User]] = relationship(secondary=client_practitioner)


class Group(OrganisationScoped, Base):
    """A named group of external participants ("Family", "Home care")."""

    __tablename__ = "participant_group_def"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))

    participants: Mapped[list["Participant"]] = relationship(
        secondary=participant_group, back_populates="groups"
    )


class Participant(OrganisationScoped, Person, Base):
    """Someone who joins consultations without being the client: family,
    an interpreter, a home-care nurse."""

    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    groups: Mapped[list[Group]] = relationship(
        secondary=participant_group, back_populates="participants"
    )
