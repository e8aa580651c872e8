"""The consultation room's rows: which rooms are open and who is in them,
invitations for extra participants, and files shared in a room.

Websocket connections come and go and may live in any app process; what
survives them is here, and a reconnecting socket resyncs from these rows.
A client's way into a room is their visit (``consultroom.waitingroom.models``).
"""

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.appointments.models import Appointment
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped


def new_room_id():
    return secrets.token_urlsafe(24)


def new_invite_token():
    return secrets.token_urlsafe(32)


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
    # Last said to be open by the process serving the socket (room.presence).
    seen_at: Mapped[datetime | None] = mapped_column(default=None)


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


class ConnectionProblem(OrganisationScoped, Base):
    """A connection that failed, as a browser reported it: a consultation's
    media connection (``room``) or a network test (``network_test``).
    Counted by the usage report; says nothing of what was said or shown."""

    __tablename__ = "connection_problem"
    __table_args__ = (Index("ix_connection_problem_org_at", "organisation_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # "room" or "network_test"
    role: Mapped[str] = mapped_column(String(12))  # who reported it: "staff", "client", ...
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL"), default=None
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )


class BackgroundImage(OrganisationScoped, Base):
    """A background an organisation's admin offers in the room: anyone there
    may replace their camera's background with it (room.backgrounds). Stored
    as the checked, scaled PNG (consultroom.web.images), never the upload."""

    __tablename__ = "background_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    image: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
