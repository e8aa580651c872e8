"""When practitioners (or departments) can be booked, or seen by walk-in
visitors: each availability block has a purpose."""

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.accounts.models import User
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.tenancy.models import Department

# What a block is for: slots to book, the walk-in widget, or both. Blocks
# made before purposes existed are "both" (what they did then).
BOOKING, WALK_IN, BOTH = "booking", "walk_in", "both"
PURPOSES = (BOOKING, WALK_IN, BOTH)
FOR_BOOKING = (BOOKING, BOTH)
FOR_WALK_IN = (WALK_IN, BOTH)


class AvailabilityBlock(OrganisationScoped, Base):
    """A stretch of available time in the organisation's time zone: weekly on
    ``weekday`` (0 = Monday) between ``valid_from`` and ``valid_until``, or
    once ``on_date``. For booking it is cut into slots of ``slot_minutes``
    with ``gap_minutes`` between them; for walk-ins (``purpose``) the whole
    stretch counts."""

    __tablename__ = "availability_block"
    __table_args__ = (
        CheckConstraint("(weekday IS NULL) <> (on_date IS NULL)", name="once_or_weekly"),
        CheckConstraint(
            "(practitioner_id IS NULL) <> (department_id IS NULL)",
            name="practitioner_or_department",
        ),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint("slot_minutes > 0 AND gap_minutes >= 0", name="positive_lengths"),
        CheckConstraint("purpose IN ('booking', 'walk_in', 'both')", name="known_purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int | None] = mapped_column(default=None)
    on_date: Mapped[date | None] = mapped_column(default=None)
    valid_from: Mapped[date | None] = mapped_column(default=None)
    valid_until: Mapped[date | None] = mapped_column(default=None)
    start_time: Mapped[time] = mapped_column()
    end_time: Mapped[time] = mapped_column()
    slot_minutes: Mapped[int] = mapped_column(default=20)
    gap_minutes: Mapped[int] = mapped_column(default=10)
    purpose: Mapped[str] = mapped_column(String(10), default=BOTH)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    practitioner: Mapped[User | None] = relationship()
    department: Mapped[Department | None] = relationship()
