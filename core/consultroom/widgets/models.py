"""The walk-in widget: an organisation's iframe listing who can be seen now."""

import secrets
from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.tenancy.models import Department

walk_in_widget_department = Table(
    "walk_in_widget_department",
    Base.metadata,
    Column("widget_id", ForeignKey("walk_in_widget.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)

INTAKE_FIELDS = ("initials", "last_name", "date_of_birth", "email", "phone", "client_number")


def _public_id():
    return secrets.token_urlsafe(9)


class WalkInWidget(OrganisationScoped, Base):
    __tablename__ = "walk_in_widget"

    id: Mapped[int] = mapped_column(primary_key=True)
    # In the public iframe URL instead of the id, so widgets cannot be enumerated.
    public_id: Mapped[str] = mapped_column(String(20), unique=True, default=_public_id)
    name: Mapped[str] = mapped_column(String(200))
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    absence_text: Mapped[str] = mapped_column(Text, default="")
    terms_text: Mapped[str] = mapped_column(Text, default="")
    primary_colour: Mapped[str] = mapped_column(String(7), default="#1f6f8b")
    background_colour: Mapped[str] = mapped_column(String(7), default="#ffffff")
    intake_fields: Mapped[list] = mapped_column(JSON, default=lambda: ["last_name"])
    # Images, read only by their own addresses; the pages ask has_logo and
    # has_background.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    background: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    has_logo: Mapped[bool] = column_property(logo.is_not(None))
    has_background: Mapped[bool] = column_property(background.is_not(None))
    custom_css: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    departments: Mapped[list[Department]] = relationship(secondary=walk_in_widget_department)
