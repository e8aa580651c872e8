"""The claim rows of the periodic jobs: one per job and organisation, saying
when its next run is due. A worker takes a run by moving ``next_run_at``
past now with a conditional UPDATE; of several workers that try at once,
exactly one changes the row (``consultroom.jobs.claims``)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import Base
from consultroom.db.scope import OrganisationScoped


class JobClaim(OrganisationScoped, Base):
    __tablename__ = "job_claim"

    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Part of the key; indexed on its own too, for deleting an organisation.
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # The start of the next period: the job is due for the organisation from then.
    next_run_at: Mapped[datetime]
    # When the last run was claimed (for people reading the table).
    claimed_at: Mapped[datetime]
