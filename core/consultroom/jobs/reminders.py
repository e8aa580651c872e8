"""The reminder on the day of an appointment, to its client and its extra
participants, from ``jobs.reminder_hour`` (07:00 by default) in the
organisation's time zone. Appointments booked that
day after that hour got their invitation just now and get no reminder."""

from datetime import datetime, time, timedelta

from sqlalchemy import update
from zope.sqlalchemy import mark_changed

from consultroom.appointments.access import visible_appointments
from consultroom.appointments.models import Appointment, Kind, Status
from consultroom.clientmail import send_appointment_mail
from consultroom.db import utcnow
from consultroom.jobs import in_organisation
from consultroom.tenancy.timezones import to_local, to_utc


def reminder_hour(settings):
    hour = int(settings.get("jobs.reminder_hour", 7))
    if not 0 <= hour <= 23:
        raise ValueError(f"jobs.reminder_hour must be 0 to 23, not {hour}")
    return hour


def due(request, now):
    """Ids of the appointments that should get their reminder now."""
    org = request.organisation
    if org.options["no_emails"]:
        return []
    hour = reminder_hour(request.registry.settings)
    local = to_local(now, org)
    if local.hour < hour:
        return []
    day = local.date()
    day_ends = to_utc(datetime.combine(day + timedelta(days=1), time()), org)
    reminders_start = to_utc(datetime.combine(day, time(hour)), org)
    query = (
        visible_appointments(request, None)
        .with_only_columns(Appointment.id)
        .where(
            Appointment.kind == Kind.appointment,
            Appointment.status == Status.scheduled,
            Appointment.client_id.is_not(None),
            Appointment.reminder_sent_at.is_(None),
            Appointment.starts_at > now,
            Appointment.starts_at < day_ends,
            Appointment.created_at < reminders_start,
        )
        .order_by(Appointment.starts_at)
    )
    return list(request.dbsession.scalars(query))


def claim(request, appointment_id, now):
    """Mark the reminder sent, if nobody did yet: True when this call did."""
    claimed = request.dbsession.execute(
        update(Appointment)
        .where(
            Appointment.id == appointment_id,
            Appointment.organisation_id == request.organisation.id,
            Appointment.reminder_sent_at.is_(None),
            Appointment.status == Status.scheduled,
        )
        # Not a change anyone made: updated_at stays.
        .values(reminder_sent_at=now, updated_at=Appointment.updated_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    mark_changed(request.dbsession)
    return claimed == 1


def remind(request, appointment_id, now):
    """Claim and queue one reminder in the request's transaction: the mail
    goes out after commit, and a failure un-claims it."""
    if not claim(request, appointment_id, now):
        return 0
    appointment = request.dbsession.get(Appointment, appointment_id)
    send_appointment_mail(request, appointment, "reminder")
    return 1


def job(request, now=None):
    """The worker job (``consultroom.jobs.hooks``): claim and queue the
    organisation's due reminders, in the request's transaction. The mail
    goes out once it commits."""
    now = now or utcnow()
    return sum(remind(request, i, now) for i in due(request, now))


def run(registry, subdomain, now=None):
    """The job for the organisation at ``subdomain`` now, unclaimed (a
    second worker racing it claims each reminder once all the same)."""
    return in_organisation(registry, subdomain, lambda request: job(request, now)) or 0
