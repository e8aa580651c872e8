"""The practitioner's day on the dashboard: today's appointments they may
see (segregation applied: ``visible_appointments``), each with what has
become of it, told by the waiting room's visits and the consultation rooms."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consultroom.appointments.access import visible_appointments
from consultroom.appointments.display import with_name
from consultroom.appointments.models import Appointment, Status
from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.room.models import Room
from consultroom.tenancy.timezones import local_now, to_local, to_utc
from consultroom.waitingroom.models import CALLED, ENDED, IN_ROOM, WAITING, Visit

# The states, as CSS class suffix and label.
EXPECTED = "expected"
WAITING_NOW = "waiting"
IN_CONSULTATION = "in_consultation"
DONE = "done"
NO_SHOW = "no_show"
CANCELLED = "cancelled"
LABELS = {
    EXPECTED: _("Expected"),
    WAITING_NOW: _("Waiting"),
    IN_CONSULTATION: _("In consultation"),
    DONE: _("Done"),
    NO_SHOW: _("No-show"),
    CANCELLED: _("Cancelled"),
}


@dataclass(frozen=True)
class DayRow:
    appointment: Appointment
    starts: datetime  # local
    with_name: str
    state: str

    @property
    def label(self):
        return LABELS[self.state]


def today_bounds(organisation):
    """Naive UTC ``[start, end)`` of the organisation's local today."""
    today = local_now(organisation).date()
    start = datetime.combine(today, time())
    return to_utc(start, organisation), to_utc(start + timedelta(days=1), organisation)


def state_of(appointment, visit, room, grace, now):
    """What became of ``appointment`` so far (one of the states above)."""
    if appointment.status is Status.cancelled:
        return CANCELLED
    if (room and room.ended_at is None) or (visit and visit.state in (CALLED, IN_ROOM)):
        return IN_CONSULTATION
    if (visit and visit.state == ENDED) or (room and room.ended_at is not None):
        return DONE
    if visit and visit.state == WAITING and _present(visit, grace, now):
        return WAITING_NOW
    if now > appointment.starts_at + timedelta(minutes=appointment.duration_minutes):
        return NO_SHOW
    return EXPECTED


def _present(visit, grace, now):
    # As the waiting list counts them: connected, or gone less than the grace ago.
    return visit.connected or (
        visit.left_at is not None and visit.left_at > now - timedelta(seconds=grace)
    )


def _by_appointment(dbsession, model, organisation_id, ids):
    rows = dbsession.scalars(
        select(model).where(model.organisation_id == organisation_id, model.appointment_id.in_(ids))
    ).all()
    # An open room wins over an ended one of the same appointment.
    return {
        row.appointment_id: row
        for row in sorted(rows, key=lambda r: getattr(r, "ended_at", None) is None)
    }


def todays_rows(request, grace):
    """Today's visible appointments by time, as :class:`DayRow`."""
    org = request.organisation
    start, end = today_bounds(org)
    appointments = request.dbsession.scalars(
        visible_appointments(request)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
        .options(
            selectinload(Appointment.client),
            selectinload(Appointment.practitioner),
            selectinload(Appointment.department),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    ids = [a.id for a in appointments]
    visits = _by_appointment(request.dbsession, Visit, org.id, ids)
    rooms = _by_appointment(request.dbsession, Room, org.id, ids)
    now = utcnow()
    return [
        DayRow(
            a,
            to_local(a.starts_at, org),
            with_name(a),
            state_of(a, visits.get(a.id), rooms.get(a.id), grace, now),
        )
        for a in appointments
    ]
