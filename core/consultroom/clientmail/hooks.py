"""The client e-mail feature's hooks: its menu entry; the invitation,
change and cancellation e-mails of the client and the extra participants
when an appointment is created, moved or cancelled (and of a participant
added to or removed from it); forgetting those e-mails when it is anonymised; and
telling the right administrator when the mail server refused a client's
address."""

from sqlalchemy import delete, select

from consultroom.accounts.models import Role, User
from consultroom.appointments.access import visible_appointments
from consultroom.appointments.display import (
    consult_link,
    department_id_of,
    format_local,
    with_name,
)
from consultroom.appointments.models import Appointment
from consultroom.appointments.service import MOVING
from consultroom.clientmail import (
    REF_PREFIX,
    places,
    send_appointment_mail,
    send_client_mail,
    send_participant_mail,
)
from consultroom.hookspecs import MenuItem, hookimpl
from consultroom.i18n import DEFAULT_LANGUAGE, LANGUAGES, _
from consultroom.mail.models import OutboxMessage


@hookimpl
def consultroom_menu_items(request):
    # Department admins keep their own department's sets (clientmail.views).
    if not request.has_permission("department.manage"):
        return None
    return [
        MenuItem(
            request.localizer.translate(_("E-mail templates")),
            request.route_path("mail_templates"),
            section="communication",
            order=36,
        )
    ]


@hookimpl
def consultroom_appointment_created(request, appointment, notify):
    # ``notify`` is about the client: the participants are invited all the same.
    if notify:
        send_client_mail(request, appointment, "invitation")
    for place in places(request.dbsession, appointment):
        send_participant_mail(request, appointment, "invitation", place.participant, place.token)


def _participants_changed(request, appointment, before, moved):
    """Invite the participants added, cancel for those removed, and tell
    the ones who stay of a move."""
    before_ids = {p.id for p in before}
    for place in places(request.dbsession, appointment):
        if place.participant_id not in before_ids:
            kind = "invitation"
        elif moved:
            kind = "change"
        else:
            continue
        send_participant_mail(request, appointment, kind, place.participant, place.token)
    now_ids = {p.id for p in appointment.participants}
    for participant in before:
        if participant.id not in now_ids:
            send_participant_mail(request, appointment, "cancellation", participant)


@hookimpl
def consultroom_appointment_changed(request, appointment, changes):
    # A new message changes nothing in anyone's calendar.
    moved = not MOVING.isdisjoint(changes)
    if "participants" in changes:
        if moved:
            send_client_mail(request, appointment, "change")
        _participants_changed(request, appointment, changes["participants"], moved)
    elif moved:
        send_appointment_mail(request, appointment, "change")


@hookimpl
def consultroom_appointment_cancelled(request, appointment):
    send_appointment_mail(request, appointment, "cancellation")


@hookimpl
def consultroom_appointment_anonymised(request, appointment_ids):
    # The client's invitations and reminders: name, address and message.
    # One being sent right now is left to finish.
    request.dbsession.execute(
        delete(OutboxMessage).where(
            OutboxMessage.organisation_id == request.organisation.id,
            OutboxMessage.ref.in_([f"{REF_PREFIX}{i}" for i in appointment_ids]),
            OutboxMessage.status != "sending",
        )
    )


def _appointment_of(request, message):
    """The appointment a refused message was about, in this organisation."""
    ref = message.ref or ""
    number = ref[len(REF_PREFIX) :] if ref.startswith(REF_PREFIX) else ""
    if not number.isdigit():
        return None
    # No one is logged in here: visible_appointments gives the whole organisation.
    return request.dbsession.scalar(
        visible_appointments(request, user=None).where(Appointment.id == int(number))
    )


def _recipient_name(appointment, address):
    """Whom a refused e-mail about ``appointment`` was for: its client or
    one of its participants; once anonymised, the address is all there is."""
    people = [appointment.client] if appointment.client else []
    for person in [*people, *appointment.participants]:
        if person.email == address:
            return person.display_name
    return address


def responsible_admins(request, appointment):
    """The active department admins of the appointment's department, or the
    organisation admins when that department has none (or there is none)."""
    staff = select(User).where(User.organisation_id == request.organisation.id, User.active)
    department_id = department_id_of(appointment)
    if department_id is not None:
        admins = request.dbsession.scalars(
            staff.where(User.role == Role.dept_admin, User.department_id == department_id)
        ).all()
        if admins:
            return admins
    return request.dbsession.scalars(staff.where(User.role == Role.org_admin)).all()


@hookimpl
def consultroom_mail_refused(request, message, reason):
    appointment = _appointment_of(request, message)
    if appointment is None:
        return  # not a client e-mail about an appointment
    client = _recipient_name(appointment, message.recipient)
    link = consult_link(request, appointment)
    for admin in responsible_admins(request, appointment):
        language = admin.language if admin.language in LANGUAGES else DEFAULT_LANGUAGE
        date, time = format_local(appointment.starts_at, request.organisation, language)
        request.queue_mail(
            admin.email,
            "clientmail_refused",
            {
                "admin": admin,
                "client": client,
                "recipient": message.recipient,
                "date": date,
                "time": time,
                "with_name": with_name(appointment),
                "reason": reason,
                "link": link,
            },
            subject=_("An e-mail to ${client} could not be delivered", mapping={"client": client}),
            language=language,
        )
