"""What waiting clients read: service messages (the "you are on time" text is
an organisation setting)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.tenancy.models import Department


class ServiceMessage(OrganisationScoped, Base):
    """A notice shown in the waiting room ("Phones are down until 11:00"),
    for the whole organisation or one department, until it expires."""

    __tablename__ = "service_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)  # UTC
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship()
