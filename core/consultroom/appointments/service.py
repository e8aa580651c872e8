"""Creating, changing and cancelling appointments: the one path used by the
staff pages, the booking and walk-in widgets and the API, so that every
appointment is validated, stored and announced the same way.

Announced through the appointment lifecycle hooks (created, changed,
cancelled), in the transaction of the change: the client e-mail feature
sends its invitations from them, plugins do what they need."""

from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from consultroom.appointments.fields import save as save_fields
from consultroom.appointments.models import Appointment, Kind, Status
from consultroom.audit import record
from consultroom.db import utcnow
from consultroom.i18n import _

MAX_DURATION = 8 * 60
# The changes that move an appointment in time or to someone else: the
# calendar entry gets a new version, the reminder is due again, and the
# client is told.
MOVING = frozenset({"starts_at", "duration_minutes", "practitioner", "department"})


class AppointmentError(ValueError):
    """Carries a translation string for the user (or API caller)."""


class SlotTaken(AppointmentError):
    pass


def _check(
    organisation,
    *,
    client,
    practitioner,
    department,
    duration_minutes,
    participants=(),
    new_practitioner=True,
):
    """Refuse what no caller may store. ``new_practitioner`` is False when an
    update keeps the practitioner: one deactivated since the booking must not
    block changing the message."""
    if practitioner is None and department is None:
        raise AppointmentError(_("Choose a practitioner or a department."))
    if (
        department is not None
        and practitioner is None
        and not organisation.options["strict_departments"]
    ):
        raise AppointmentError(
            _("Appointments with a department need strictly segregated departments.")
        )
    for thing in (client, practitioner, department, *participants):
        if thing is not None and thing.organisation_id != organisation.id:
            raise AppointmentError(_("Not found."))  # another tenant's object
    if practitioner is not None and new_practitioner and not practitioner.active:
        raise AppointmentError(_("This practitioner is not active."))
    if not 5 <= duration_minutes <= MAX_DURATION:
        raise AppointmentError(
            _("The duration must be between 5 and ${max} minutes.", mapping={"max": MAX_DURATION})
        )


def _store(dbsession, appointment, changes=None):
    """Apply ``changes`` and flush inside a savepoint, so that a lost race
    leaves the transaction usable and the appointment as it was stored (the
    rollback expires what changed). The changes must be made inside the
    savepoint: ``begin_nested`` first flushes pending changes outside it."""
    try:
        with dbsession.begin_nested():
            for key, value in (changes or {}).items():
                setattr(appointment, key, value)
            dbsession.add(appointment)
            dbsession.flush()
    except IntegrityError:
        raise SlotTaken(_("This time was just taken by someone else. Choose another.")) from None


def create_appointment(
    request,
    *,
    client,
    starts_at,
    duration_minutes,
    practitioner=None,
    department=None,
    message="",
    participants=(),
    kind=Kind.appointment,
    notify=True,
    extra=(),
    origin,
):
    """Store a new appointment (``starts_at`` in naive UTC) and announce it
    (the client's invitation unless ``notify`` is False). ``extra`` are the
    plugin form fields' ``(field, value)`` pairs, saved before the
    announcement (``appointments.fields``); ``origin`` (an ``Origin``) says
    who made it. Raises AppointmentError or SlotTaken."""
    organisation = request.organisation
    _check(
        organisation,
        client=client,
        practitioner=practitioner,
        department=department,
        duration_minutes=duration_minutes,
        participants=participants,
    )
    appointment = Appointment(
        organisation_id=organisation.id,
        client=client,
        practitioner=practitioner,
        department=department,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        message=message,
        participants=list(participants),
        kind=kind,
    )
    _store(request.dbsession, appointment)
    record(
        request,
        "appointment.create",
        "appointment",
        appointment.id,
        client_id=client.id if client else None,
        kind=kind.value,
        origin=origin.value,
    )
    save_fields(request, appointment, extra)
    request.hooks.consultroom_appointment_created(
        request=request, appointment=appointment, notify=notify, origin=origin
    )
    return appointment


def update_appointment(request, appointment, extra=(), **changes):
    """Change an appointment's time, duration, practitioner, department,
    message or participants, save the plugin form fields' ``extra`` values,
    and announce what changed."""
    if appointment.status is Status.cancelled:
        raise AppointmentError(_("This appointment has been cancelled."))
    fields = {
        "client",
        "practitioner",
        "department",
        "starts_at",
        "duration_minutes",
        "message",
        "participants",
    }
    unknown = set(changes) - fields
    if unknown:
        raise TypeError(f"not appointment fields: {sorted(unknown)}")
    merged = {
        f: changes.get(f, getattr(appointment, f))
        for f in ("client", "practitioner", "department", "duration_minutes", "participants")
    }
    _check(
        request.organisation,
        **merged,
        new_practitioner=merged["practitioner"] is not appointment.practitioner,
    )
    changes = {k: list(v) if k == "participants" else v for k, v in changes.items()}
    changed = sorted(k for k, v in changes.items() if v != getattr(appointment, k))
    # The values before the change, for the hook: a copy of the participants,
    # whose list the change replaces.
    before = {
        k: list(appointment.participants) if k == "participants" else getattr(appointment, k)
        for k in changed
    }
    if not MOVING.isdisjoint(changed):
        # A new iCalendar version, and a new reminder for the new time.
        changes.update(sequence=appointment.sequence + 1, reminder_sent_at=None)
    elif "participants" in changed:
        # A removed participant's cancellation must outrank their invitation.
        changes.update(sequence=appointment.sequence + 1)
    _store(request.dbsession, appointment, changes)
    record(request, "appointment.update", "appointment", appointment.id, changed=changed)
    save_fields(request, appointment, extra)
    if before:
        request.hooks.consultroom_appointment_changed(
            request=request, appointment=appointment, changes=before
        )
    return appointment


def cancel_appointment(request, appointment):
    if appointment.status is Status.cancelled:
        return appointment
    appointment.status = Status.cancelled
    appointment.sequence += 1
    request.dbsession.flush()
    record(request, "appointment.cancel", "appointment", appointment.id)
    request.hooks.consultroom_appointment_cancelled(request=request, appointment=appointment)
    return appointment


def link_window(appointment, organisation):
    """``(opens, closes)`` in naive UTC: when the client's link admits them."""
    options = organisation.options
    opens = appointment.starts_at - timedelta(minutes=options["link_open_before_minutes"])
    closes = appointment.ends_at + timedelta(minutes=options["link_open_after_minutes"])
    return opens, closes


def link_state(appointment, organisation, now=None):
    """ "cancelled", "too_early", "open" or "passed" for the client's link."""
    if appointment.status is Status.cancelled:
        return "cancelled"
    now = now or utcnow()
    opens, closes = link_window(appointment, organisation)
    if now < opens:
        return "too_early"
    if now > closes:
        return "passed"
    return "open"
