"""The usage figures the worker computes each night, one row per local day,
department and staff member: what the usage report reads, so that its page
costs the same whatever the number of appointments."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base
from consultroom.db.scope import OrganisationScoped


class UsageDay(OrganisationScoped, Base):
    __tablename__ = "usage_day"
    __table_args__ = (Index("ix_usage_day_org_day", "organisation_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    day: Mapped[date]  # in the organisation's time zone
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"), default=None
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    # Appointments starting that day: not cancelled, and of those the ones
    # held (a consultation room was opened) and missed; and cancelled ones.
    booked: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)
    no_shows: Mapped[int] = mapped_column(default=0)
    cancelled: Mapped[int] = mapped_column(default=0)
    # Consultation rooms that started that day and have ended, and their time.
    consultations: Mapped[int] = mapped_column(default=0)
    consultation_seconds: Mapped[int] = mapped_column(default=0)
    logins: Mapped[int] = mapped_column(default=0)
    # Failed media connections and network tests the browsers reported.
    connection_problems: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime]
