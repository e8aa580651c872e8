"""The e-mails clients receive: template sets, placeholders and iCalendar.

``send_client_mail(request, appointment, kind)`` is the one entry point; kind
is one of "invitation", "reminder", "change", "cancellation". The appointment
lifecycle hooks (hooks.py) send the invitation, change and cancellation, the
reminder job the reminder. The text comes
from the template set of the appointment's department in the client's
language, else the organisation's default set in that language, else the
built-in texts (see compose.py).

An appointment's extra participants get the same four e-mails, each with
their own link (``/p/<token>``) and ``.ics``, in their own language:
``send_participant_mail`` for one, ``send_appointment_mail`` for the client
and every participant.
"""

from sqlalchemy import select
from translationstring import TranslationString

from consultroom.appointments.models import AppointmentParticipant
from consultroom.clientmail.compose import Reader, client_reader, compose
from consultroom.clientmail.ical import FILENAME, calendar, content_type
from consultroom.clientmail.models import KINDS
from consultroom.clients.contact import client_mail_enabled
from consultroom.i18n import localizer_for
from consultroom.web.sites import org_url

REF_PREFIX = "appointment:"


def _already_translated(text):
    # queue_mail translates its subject; this one is already in the client's
    # language, and must not be looked up in the catalogue as a message id.
    return TranslationString("${text}", mapping={"text": text})


def _check(request, appointment, kind):
    if kind not in KINDS:
        raise ValueError(f"unknown client mail kind {kind!r}")
    if appointment.organisation_id != request.organisation.id:
        # The texts, links and sender would be another organisation's.
        raise ValueError("the appointment belongs to another organisation than the request")


def send_client_mail(request, appointment, kind):
    """Queue the client's e-mail of ``kind`` about ``appointment`` (in the
    request's transaction), unless the organisation sends no e-mail or the
    client has no address. Returns the outbox row or None."""
    _check(request, appointment, kind)
    if not client_mail_enabled(request.organisation, appointment.client):
        return None
    return _queue(request, appointment, kind, client_reader(request, appointment))


def participant_link(request, token):
    """An extra participant's absolute link, on the organisation's site."""
    return org_url(request, request.organisation, f"/p/{token}")


def places(dbsession, appointment):
    """The appointment's extra participants, each with their own link token."""
    return dbsession.scalars(
        select(AppointmentParticipant)
        .where(AppointmentParticipant.appointment_id == appointment.id)
        .order_by(AppointmentParticipant.participant_id)
    ).all()


def send_participant_mail(request, appointment, kind, participant, token=None):
    """Queue ``participant``'s e-mail of ``kind`` about ``appointment``,
    with their link (``token``; None for one just removed, whose link is
    gone), unless the organisation sends no e-mail or they have no address.
    Returns the outbox row or None."""
    _check(request, appointment, kind)
    if not client_mail_enabled(request.organisation, participant):
        return None
    link = participant_link(request, token) if token else ""
    return _queue(request, appointment, kind, Reader(participant, link, ""))


def send_appointment_mail(request, appointment, kind):
    """The e-mail of ``kind`` to the client and to every extra participant."""
    sent = [send_client_mail(request, appointment, kind)]
    for place in places(request.dbsession, appointment):
        sent.append(
            send_participant_mail(request, appointment, kind, place.participant, place.token)
        )
    return [mail for mail in sent if mail is not None]


def _queue(request, appointment, kind, reader):
    mail = compose(request, appointment, kind, reader)
    localizer = localizer_for(request.registry, mail.language)
    ics = calendar(request, appointment, kind, reader.link, localizer, reader.person)
    return request.queue_mail(
        reader.person.email,
        "clientmail",
        {"body": mail.body},
        subject=_already_translated(mail.subject),
        language=mail.language,
        attachments=[(FILENAME, content_type(kind), ics)],
        ref=f"{REF_PREFIX}{appointment.id}",
    )


def includeme(config):
    config.include(".views")
