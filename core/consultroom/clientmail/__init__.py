"""The e-mails clients receive: template sets, placeholders and iCalendar.

``send_client_mail(request, appointment, kind)`` is the one entry point; kind
is one of "invitation", "reminder", "change", "cancellation". The appointment
lifecycle hooks (hooks.py) send the invitation, change and cancellation, the
reminder job the reminder. The text comes
from the template set of the appointment's department in the client's
language, else the organisation's default set in that language, else the
built-in texts (see compose.py).
"""

from translationstring import TranslationString

from consultroom.clientmail.compose import compose
from consultroom.clientmail.ical import CONTENT_TYPE, FILENAME, calendar
from consultroom.clientmail.models import KINDS
from consultroom.clients.contact import client_mail_enabled
from consultroom.i18n import localizer_for

REF_PREFIX = "appointment:"


def _already_translated(text):
    # queue_mail translates its subject; this one is already in the client's
    # language, and must not be looked up in the catalogue as a message id.
    return TranslationString("${text}", mapping={"text": text})


def send_client_mail(request, appointment, kind):
    """Queue the client's e-mail of ``kind`` about ``appointment`` (in the
    request's transaction), unless the organisation sends no e-mail or the
    client has no address. Returns the outbox row or None."""
    if kind not in KINDS:
        raise ValueError(f"unknown client mail kind {kind!r}")
    if appointment.organisation_id != request.organisation.id:
        # The texts, links and sender would be another organisation's.
        raise ValueError("the appointment belongs to another organisation than the request")
    client = appointment.client
    if not client_mail_enabled(request.organisation, client):
        return None
    mail = compose(request, appointment, kind)
    link = mail.values["consult_deeplink"]
    ics = calendar(request, appointment, kind, link, localizer_for(request.registry, mail.language))
    return request.queue_mail(
        client.email,
        "clientmail",
        {"body": mail.body},
        subject=_already_translated(mail.subject),
        language=mail.language,
        attachments=[(FILENAME, CONTENT_TYPE, ics)],
        ref=f"{REF_PREFIX}{appointment.id}",
    )


def includeme(config):
    config.include(".views")
    config.include(".portal")
