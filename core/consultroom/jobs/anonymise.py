"""Anonymisation: appointments that ended more than the organisation's
``anonymise_after_days`` ago lose everything about the client (the client
link, the personal message, the extra participants, and what the features
and plugins keep about them through the ``consultroom_appointment_anonymised``
hook, such as the e-mails sent about them); date, time, duration and
practitioner stay. Clients themselves are kept."""

from datetime import timedelta

from sqlalchemy import delete, update
from zope.sqlalchemy import mark_changed

from consultroom.appointments.access import visible_appointments
from consultroom.appointments.models import Appointment, appointment_participant
from consultroom.db import utcnow
from consultroom.jobs import in_organisation

BATCH = 100  # appointments per UPDATE
PER_RUN = 10 * BATCH


def due(request, now):
    """Ids of the appointments that ended more than N days before ``now``."""
    days = request.organisation.options["anonymise_after_days"]
    if not days:
        return []
    cutoff = now - timedelta(days=days)
    # Those that start before the cutoff, then by their end (start plus
    # duration, which is not portable SQL).
    rows = request.dbsession.execute(
        visible_appointments(request, None)
        .with_only_columns(Appointment.id, Appointment.starts_at, Appointment.duration_minutes)
        .where(Appointment.anonymised_at.is_(None), Appointment.starts_at < cutoff)
        .order_by(Appointment.id)
    )
    return [
        row.id for row in rows if row.starts_at + timedelta(minutes=row.duration_minutes) < cutoff
    ]


def anonymise(request, ids, now):
    """Claim the appointments not yet anonymised among ``ids`` and clear
    their client data; the number claimed."""
    db = request.dbsession
    claimed = list(
        db.scalars(
            update(Appointment)
            .where(
                Appointment.id.in_(ids),
                Appointment.organisation_id == request.organisation.id,
                Appointment.anonymised_at.is_(None),
            )
            .values(
                client_id=None, message="", anonymised_at=now, updated_at=Appointment.updated_at
            )
            .returning(Appointment.id)
            .execution_options(synchronize_session=False)
        )
    )
    if claimed:
        db.execute(
            delete(appointment_participant).where(
                appointment_participant.c.appointment_id.in_(claimed)
            )
        )
        request.hooks.consultroom_appointment_anonymised(request=request, appointment_ids=claimed)
    mark_changed(db)
    return len(claimed)


def job(request, now=None):
    """The worker job (``consultroom.jobs.hooks``): anonymise at most
    ``PER_RUN`` of the organisation's due appointments in the request's
    transaction; a longer backlog is the next runs' (so no transaction holds
    many rows for long)."""
    now = now or utcnow()
    ids = due(request, now)[:PER_RUN]
    return sum(anonymise(request, ids[i : i + BATCH], now) for i in range(0, len(ids), BATCH))


def run(registry, subdomain, now=None):
    """The job for the organisation at ``subdomain`` now, unclaimed (the rows
    are claimed one by one all the same)."""
    return in_organisation(registry, subdomain, lambda request: job(request, now)) or 0
