"""What chat stores: conversations, their messages (encrypted), and how far
each staff member has read.

A conversation is either a *channel* (one per client and department: the
continuous "Messages" between a client and the staff of a department) or a
*consultation*: what is written in one appointment's waiting room and then
its consultation room (or in a room without an appointment), guests
included. Message bodies are encrypted at rest
with the core's secret box; names and times are not, so that lists and
counts need no decryption.
"""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.clients.models import Client
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.tenancy.models import Department


class Kind(enum.Enum):
    channel = "channel"
    consultation = "consultation"


class Author(enum.Enum):
    staff = "staff"
    client = "client"
    guest = "guest"


class Conversation(OrganisationScoped, Base):
    __tablename__ = "chat_conversation"
    __table_args__ = (Index("ix_chat_conversation_client", "client_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[Kind] = mapped_column(Enum(Kind, native_enum=False, length=20))
    # Erasing a client, anonymising an appointment or deleting a room
    # deletes their conversations.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("room.id", ondelete="CASCADE"), unique=True
    )
    # A department admin may withdraw a client's right to write in a channel.
    client_may_write: Mapped[bool] = mapped_column(default=True)
    # The client's side has read up to this message id.
    client_read_id: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(default=None)

    client: Mapped[Client | None] = relationship()
    department: Mapped[Department | None] = relationship()


class Message(OrganisationScoped, Base):
    __tablename__ = "chat_message"
    __table_args__ = (Index("ix_chat_message_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chat_conversation.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    author: Mapped[Author] = mapped_column(Enum(Author, native_enum=False, length=10))
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted


class ReadMark(Base):
    """How far one staff member has read one conversation. Reached only
    through a conversation of the request's organisation."""

    __tablename__ = "chat_read"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chat_conversation.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    last_read_id: Mapped[int] = mapped_column(default=0)
