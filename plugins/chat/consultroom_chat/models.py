"""What chat stores: conversations, their messages (encrypted), and how far
each staff member has read.

A conversation is either a *channel* (one per client and department: the
continuous "Messages" between a client and the staff of a department) or a
*consultation*: what is written in one appointment's waiting room and then
its consultation room (or in a room without an appointment), guests
included; or a *visitor* conversation: someone on the organisation's web
site writing through the public chat widget, answered by the staff on duty
(it belongs to the organisation, with no client or department, and every
staff member of the organisation may read it). Message bodies are
encrypted at rest
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
    visitor = "visitor"


class Author(enum.Enum):
    staff = "staff"
    client = "client"
    guest = "guest"
    visitor = "visitor"


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
    # A visitor conversation's visitor, as they gave it in the widget; the
    # address (optional) is told of an answer, never of its content.
    visitor_name: Mapped[str | None] = mapped_column(String(200), default=None)
    visitor_email: Mapped[str | None] = mapped_column(String(254), default=None)
    visitor_language: Mapped[str | None] = mapped_column(String(5), default=None)
    # Left while nobody was on duty: the visitor learns of the answer by e-mail.
    answer_by_mail: Mapped[bool] = mapped_column(default=False)

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


class Duty(OrganisationScoped, Base):
    """A staff member's "answer the website chat" switch (the Messages page):
    who is on duty for the public chat widget."""

    __tablename__ = "chat_duty"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    answering: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
