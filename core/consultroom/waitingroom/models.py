"""The waiting room's rows: who waits for which appointment (visits), each
staff member's walk-in switch, the service messages waiting clients read, and
the client texts written per language (the organisation's own "you are on
time" text, follow-up message and disclaimer are its settings, the fallback).

Websocket connections come and go and may live in any app process; a visit
and a switch survive them, and a reconnecting socket resyncs from these rows
(``consultroom.waitingroom.live``).
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.accounts.models import User
from consultroom.appointments.models import Appointment
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.tenancy.models import Department

# Visit states. A visit is "called" only inside the transaction that claims
# it; "in_room" once the room is open for the client.
WAITING = "waiting"
CALLED = "called"
IN_ROOM = "in_room"
ENDED = "ended"


class Visit(OrganisationScoped, Base):
    """A client's presence for one appointment: waiting, in the room, ended.

    ``practitioner_id`` and ``department_id`` are copied from the appointment
    when the client arrives: they decide whose waiting list shows the visit.
    """

    __tablename__ = "visit"
    __table_args__ = (Index("ix_visit_org_state", "organisation_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed with state (ix_visit_org_state), not alone.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(10), default=WAITING)
    arrival: Mapped[str] = mapped_column(String(10), default="on_time")
    arrived_at: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # The consultation room (consultroom.room.models) the client was called into.
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("room.id", ondelete="SET NULL"), index=True
    )
    # The client's current socket; an older one (another tab) is closed.
    peer: Mapped[str | None] = mapped_column(String(32), default=None)
    connected: Mapped[bool] = mapped_column(default=False)
    last_seen: Mapped[datetime | None] = mapped_column(default=None)
    # Set when the client's last socket closed; the visit leaves the waiting
    # list once the grace period after it has passed.
    left_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str | None] = mapped_column(String(200), default=None)

    appointment: Mapped[Appointment] = relationship()
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])


class ServiceMessage(OrganisationScoped, Base):
    """A notice shown in the waiting room ("Phones are down until 11:00"),
    for the whole organisation or one department, until it expires."""

    __tablename__ = "service_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    # The message in other languages, {"nl": "..."}; ``text`` for the rest.
    translations: Mapped[dict] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)  # UTC
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship()


class WalkInSwitch(OrganisationScoped, Base):
    """A staff member's "available for walk-ins" switch in the room."""

    __tablename__ = "walk_in_switch"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    available: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClientText(OrganisationScoped, Base):
    """A text for clients in one language: the waiting-room text (of the
    organisation or of one department), the follow-up message shown when the
    consultation has ended, or the disclaimer. A client reads the one of
    their appointment's department in their language, else the
    organisation's in their language, else the organisation's own setting
    (``consultroom.waitingroom.texts``). One per kind, department and
    language: the pages that write them see to it."""

    __tablename__ = "client_text"
    __table_args__ = (Index("ix_client_text_lookup", "organisation_id", "kind", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    text: Mapped[str] = mapped_column(Text)

    department: Mapped[Department | None] = relationship()
