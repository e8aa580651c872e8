"""Appointments: who meets whom, when, and the links of the client and the
extra participants to the room."""

import enum
from datetime import datetime, timedelta

from sqlalchemy import Column, Enum, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.accounts.models import User
from consultroom.clients.models import Client, Participant, new_token
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.tenancy.models import Department

appointment_participant = Table(
    "appointment_participant",
    Base.metadata,
    Column("appointment_id", ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True),
    Column("participant_id", ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True),
    # The participant's own link to the appointment, /p/<token>: made when
    # they are added, gone when they are removed.
    Column("token", String(64), unique=True, nullable=False, default=new_token),
    # The socket of a participant waiting in the waiting room (organisation
    # setting "participants_join"), so that staff see them on the list.
    Column("waiting_peer", String(32), nullable=True, default=None),
)


class Kind(enum.Enum):
    appointment = "appointment"  # booked ahead, by staff, the widget or the API
    quick = "quick"  # a consultation starting now
    walk_in = "walk_in"  # a visitor from the walk-in widget


class Origin(enum.StrEnum):
    """Who made a new appointment, and through which door (told to
    ``consultroom_appointment_created`` and the audit trail; not stored)."""

    staff = "staff"  # a staff member: the appointment form or a quick consultation
    booking = "booking"  # a client, through the booking widget
    walk_in = "walk_in"  # a visitor, through the walk-in widget
    api = "api"  # a program, through the REST API


class Status(enum.Enum):
    scheduled = "scheduled"
    cancelled = "cancelled"


# Booked slots are unique per practitioner (or per department for department
# appointments): the database refuses the second of two simultaneous
# bookings, on PostgreSQL and SQLite alike.
_BOOKED = "status = 'scheduled' AND kind = 'appointment'"


class Appointment(OrganisationScoped, Base):
    __tablename__ = "appointment"
    __table_args__ = (
        Index(
            "uq_appointment_practitioner_slot",
            "practitioner_id",
            "starts_at",
            unique=True,
            postgresql_where=text(_BOOKED),
            sqlite_where=text(_BOOKED),
        ),
        Index(
            "uq_appointment_department_slot",
            "department_id",
            "starts_at",
            unique=True,
            postgresql_where=text(_BOOKED + " AND practitioner_id IS NULL"),
            sqlite_where=text(_BOOKED + " AND practitioner_id IS NULL"),
        ),
        Index("ix_appointment_org_start", "organisation_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed with starts_at (ix_appointment_org_start), not alone.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    # NULL once anonymised: the appointment keeps only time and practitioner.
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("client.id", ondelete="SET NULL"), index=True
    )
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[Kind] = mapped_column(
        Enum(Kind, native_enum=False, length=20), default=Kind.appointment
    )
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=20), default=Status.scheduled
    )
    starts_at: Mapped[datetime] = mapped_column()  # UTC
    duration_minutes: Mapped[int] = mapped_column(default=20)
    message: Mapped[str] = mapped_column(Text, default="")
    # The client's link: unguessable, never the id.
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # iCalendar: the same UID for every update, with a rising SEQUENCE.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    anonymised_at: Mapped[datetime | None] = mapped_column(default=None)

    client: Mapped[Client | None] = relationship()
    practitioner: Mapped[User | None] = relationship()
    department: Mapped[Department | None] = relationship()
    participants: Mapped[list[Participant]] = relationship(secondary=appointment_participant)

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def ical_uid(self):
        return f"appointment-{self.id}-{self.organisation_id}@consultroom"


class AppointmentParticipant(Base):
    """An extra participant's place in one appointment, with their own link.
    ``Appointment.participants`` adds and removes these rows; this class
    reads them (by token) and keeps the waiting participant's socket."""

    __table__ = appointment_participant

    appointment: Mapped[Appointment] = relationship(viewonly=True)
    participant: Mapped[Participant] = relationship(viewonly=True)
