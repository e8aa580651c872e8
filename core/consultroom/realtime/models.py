"""The authoritative state of the waiting and consultation rooms.

Websocket connections come and go and may live in any app process; what
survives them is here: who waits where (visits), which rooms are open and
who is in them, invitations for extra participants, files shared in a room,
and each staff member's walk-in switch. A reconnecting socket resyncs from
these rows.
"""

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.accounts.models import User
from consultroom.appointments.models import Appointment
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped

# Visit states. A visit is "called" only inside the transaction that claims
# it; "in_room" once the room is open for the client.
WAITING = "waiting"
CALLED = "called"
IN_ROOM = "in_room"
ENDED = "ended"


def new_room_id():
    return secrets.token_urlsafe(24)


def new_invite_token():
    return secrets.token_urlsafe(32)


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


class Room(OrganisationScoped, Base):
    """A consultation room: open from ``started_at`` until ``ended_at``.
    Its id is in the staff's address, so it is random, never a counter."""

    __tablename__ = "room"

    id: Mapped[str] = mapped_column(String(43), primary_key=True, default=new_room_id)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the room's files were removed (at the end, or by the worker's sweep).
    cleaned_at: Mapped[datetime | None] = mapped_column(default=None)

    appointment: Mapped[Appointment | None] = relationship()


class RoomMember(Base):
    """One admitted socket in a room (a peer), until it leaves."""

    __tablename__ = "room_member"
    __table_args__ = (Index("ix_room_member_present", "room_id", "left_at"),)

    peer: Mapped[str] = mapped_column(String(32), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(default=None)


class RoomInvite(Base):
    """An extra participant's way into one room: ``/join/<token>``."""

    __tablename__ = "room_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_invite_token)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    room: Mapped[Room] = relationship()


class SharedFile(Base):
    """A file shared during a consultation; on disk until the room ends."""

    __tablename__ = "shared_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column()
    content_type: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(500))
    uploaded_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WalkInSwitch(OrganisationScoped, Base):
    """A staff member's "available for walk-ins" switch in the room."""

    __tablename__ = "walk_in_switch"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    available: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
