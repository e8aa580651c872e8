"""Computing the usage figures of an organisation's last ``DAYS`` local days
(up to yesterday) into ``UsageDay`` rows: the worker's nightly job. Each run
replaces the window's rows in its one transaction, so the report never
shows half a refresh."""

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, select
from zope.sqlalchemy import mark_changed

from consultroom.accounts.models import User
from consultroom.appointments.models import Appointment, Status
from consultroom.audit.models import AuditEntry
from consultroom.db import utcnow
from consultroom.reports.models import UsageDay
from consultroom.room.models import ConnectionProblem, Room
from consultroom.tenancy.timezones import local_now, to_local, to_utc

DAYS = 40


@dataclass
class Counts:
    booked: int = 0
    held: int = 0
    no_shows: int = 0
    cancelled: int = 0
    consultations: int = 0
    consultation_seconds: int = 0
    logins: int = 0
    connection_problems: int = 0


COUNTED = [f.name for f in fields(Counts)]


def window(organisation, now=None):
    """The first and last local day of the report (``now``: naive UTC, the
    clock's by default), and their UTC bounds."""
    today = local_now(organisation, now.replace(tzinfo=UTC) if now else None).date()
    first, last = today - timedelta(days=DAYS), today - timedelta(days=1)
    start = to_utc(datetime.combine(first, time()), organisation)
    end = to_utc(datetime.combine(today, time()), organisation)
    return first, last, start, end


def _appointments(db, org, start, end, counts):
    rows = db.execute(
        select(
            Appointment.id,
            Appointment.starts_at,
            Appointment.status,
            Appointment.department_id,
            Appointment.practitioner_id,
        ).where(
            Appointment.organisation_id == org.id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
    ).all()
    held = set(
        db.scalars(
            select(Room.appointment_id).where(
                Room.organisation_id == org.id,
                Room.appointment_id.in_([row.id for row in rows]),
            )
        )
    )
    for row in rows:
        bucket = counts[to_local(row.starts_at, org).date(), row.department_id, row.practitioner_id]
        if row.status is Status.cancelled:
            bucket.cancelled += 1
            continue
        bucket.booked += 1
        if row.id in held:
            bucket.held += 1
        else:
            bucket.no_shows += 1


def _consultations(db, org, start, end, counts):
    rows = db.execute(
        select(
            Room.started_at,
            Room.ended_at,
            Room.created_by_id,
            Appointment.department_id,
            Appointment.practitioner_id,
        )
        .outerjoin(Appointment, Appointment.id == Room.appointment_id)
        .where(
            Room.organisation_id == org.id,
            Room.started_at >= start,
            Room.started_at < end,
            Room.ended_at.is_not(None),
        )
    ).all()
    departments = _departments(db, org)
    for row in rows:
        user_id = row.practitioner_id or row.created_by_id
        department_id = row.department_id or departments.get(user_id)
        bucket = counts[to_local(row.started_at, org).date(), department_id, user_id]
        bucket.consultations += 1
        bucket.consultation_seconds += int((row.ended_at - row.started_at).total_seconds())


def _logins(db, org, start, end, counts):
    rows = db.execute(
        select(AuditEntry.at, AuditEntry.user_id).where(
            AuditEntry.organisation_id == org.id,
            AuditEntry.action == "login.success",
            AuditEntry.at >= start,
            AuditEntry.at < end,
        )
    ).all()
    departments = _departments(db, org)
    for row in rows:
        day = to_local(row.at, org).date()
        counts[day, departments.get(row.user_id), row.user_id].logins += 1


def _problems(db, org, start, end, counts):
    rows = db.execute(
        select(
            ConnectionProblem.at,
            ConnectionProblem.user_id,
            Appointment.department_id,
            Appointment.practitioner_id,
        )
        .outerjoin(Appointment, Appointment.id == ConnectionProblem.appointment_id)
        .where(
            ConnectionProblem.organisation_id == org.id,
            ConnectionProblem.at >= start,
            ConnectionProblem.at < end,
        )
    ).all()
    departments = _departments(db, org)
    for row in rows:
        user_id = row.user_id or row.practitioner_id
        department_id = row.department_id or departments.get(user_id)
        counts[to_local(row.at, org).date(), department_id, user_id].connection_problems += 1


def _departments(db, org):
    return dict(
        db.execute(select(User.id, User.department_id).where(User.organisation_id == org.id)).all()
    )


def refresh(db, organisation, now=None):
    """Recompute ``organisation``'s figures of the report's window; the
    number of rows written."""
    _first, last, start, end = window(organisation, now)
    counts = defaultdict(Counts)
    for part in (_appointments, _consultations, _logins, _problems):
        part(db, organisation, start, end, counts)
    # The window's rows are replaced; older ones are no longer shown, nor kept.
    db.execute(
        delete(UsageDay).where(UsageDay.organisation_id == organisation.id, UsageDay.day <= last)
    )
    mark_changed(db)
    computed_at = now or utcnow()
    db.add_all(
        UsageDay(
            organisation_id=organisation.id,
            day=day,
            department_id=department_id,
            user_id=user_id,
            computed_at=computed_at,
            **vars(bucket),
        )
        for (day, department_id, user_id), bucket in counts.items()
    )
    db.flush()
    return len(counts)


def job(request):
    """The worker's nightly run for the organisation of ``request``."""
    return refresh(request.dbsession, request.organisation)
