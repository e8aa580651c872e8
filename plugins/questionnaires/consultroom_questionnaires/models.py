"""What the questionnaires plugin stores.

A *questionnaire* (of a department, or of the whole organisation) has
*versions*: the fields as they were written, frozen once a client answered
them. Editing a questionnaire whose latest version has answers makes a new
version; a *response* (one client's copy to fill in, for an appointment or
on its own) stays tied to the version it answered, so that it renders as it
was answered, forever. A response's answers and images are encrypted with
its client's *data key* (``ClientKey``), itself encrypted with the key
encryption key from the settings (consultroom_questionnaires.crypto):
destroying a client's key destroys every answer with it.
"""

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.clients.models import new_token
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.tenancy.models import Department


class Questionnaire(OrganisationScoped, Base):
    __tablename__ = "questionnaires_questionnaire"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    # None: the whole organisation's (organisation admins keep it).
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    # Required before the waiting room, unless the appointment says otherwise.
    required: Mapped[bool] = mapped_column(default=False)
    # Given to whoever books through the booking widget, or walks in
    # through a walk-in widget (with the questionnaire's department, if any).
    for_booking: Mapped[bool] = mapped_column(default=False)
    for_walk_in: Mapped[bool] = mapped_column(default=False)
    # The anamnesis questionnaire made when the organisation enabled the plugin.
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Deleted while clients' answers still refer to it: hidden, not gone.
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    department: Mapped[Department | None] = relationship()
    versions: Mapped[list["Version"]] = relationship(
        back_populates="questionnaire",
        order_by="Version.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def latest(self):
        return self.versions[-1]

    @property
    def title(self):
        return self.latest.title


class Version(OrganisationScoped, Base):
    """The questionnaire's title and fields at one time. ``fields`` is a
    list of ``{"key", "type", "label", "help", "required", "options"}``
    (consultroom_questionnaires.fieldtypes)."""

    __tablename__ = "questionnaires_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires_questionnaire.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(200))
    fields: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")


class ClientKey(OrganisationScoped, Base):
    """A client's data key, wrapped (encrypted) by the key encryption key.
    Deleting the row makes every answer of the client unreadable."""

    __tablename__ = "questionnaires_client_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), unique=True)
    # Which key encryption key wrapped it (a fingerprint, never the key).
    kek_id: Mapped[str] = mapped_column(String(16))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Status(enum.Enum):
    new = "new"
    started = "started"
    finished = "finished"


class Response(OrganisationScoped, Base):
    """One client's copy of a questionnaire: for an appointment (attached by
    staff or while booking) or on its own, with its own link."""

    __tablename__ = "questionnaires_response"
    __table_args__ = (Index("ix_questionnaires_response_client", "client_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires_questionnaire.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires_version.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    # Must be finished before the client may enter the waiting room.
    required: Mapped[bool] = mapped_column(default=False)
    # The client's link /q/<token>: unguessable, never the id.
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=20), default=Status.new
    )
    # The answers as encrypted JSON (consultroom_questionnaires.crypto), or None.
    answers: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    questionnaire: Mapped[Questionnaire] = relationship()
    version: Mapped[Version] = relationship()


class Image(OrganisationScoped, Base):
    """An image a client uploaded as the answer of an image field,
    re-encoded as PNG and encrypted like the answers."""

    __tablename__ = "questionnaires_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires_response.id", ondelete="CASCADE"), index=True
    )
    field_key: Mapped[str] = mapped_column(String(16))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
