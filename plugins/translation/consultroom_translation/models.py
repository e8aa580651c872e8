"""What the captions plugin stores: which rooms have captions switched on
and which caption worker serves each (a lease, so that another worker picks a
room up when its worker dies), and, where the organisation keeps one, the
transcript: each caption's text encrypted at rest with the core's secret box.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped


class CaptionRoom(OrganisationScoped, Base):
    """A room whose captions are on, and the worker holding it until
    ``lease_until`` (renewed while it serves the room)."""

    __tablename__ = "translation_caption_room"

    room_id: Mapped[str] = mapped_column(
        ForeignKey("room.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    switched_on_at: Mapped[datetime] = mapped_column(default=utcnow)
    worker: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)


class TranscriptLine(OrganisationScoped, Base):
    """One caption of a kept transcript; the text is encrypted at rest."""

    __tablename__ = "translation_transcript_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("room.id", ondelete="SET NULL"), index=True
    )
    # Anonymising the appointment deletes its transcript (hooks.py); the
    # cascade covers deleting the appointment outright.
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    speaker: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5))
    body: Mapped[bytes] = mapped_column(LargeBinary)
