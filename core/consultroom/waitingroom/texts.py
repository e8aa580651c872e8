"""Which wording of a client text a client reads: the waiting-room text, the
follow-up message and the disclaimer in the client's language, and a service
message in it.

A text written for the appointment's department in the client's language
comes first, then the organisation's in that language, then the
organisation's own setting (written once, for every language). The
disclaimer is switched on by that setting alone: a wording in a language
only replaces it, so that no client gets in without the disclaimer because
of the language they speak.
"""

from sqlalchemy import or_, select

from consultroom.clients.contact import language_of
from consultroom.i18n import _
from consultroom.waitingroom.messages import current_messages
from consultroom.waitingroom.models import ClientText

# kind -> its name on the pages that write it; the order of those pages.
KINDS = {
    "waiting_room": _("Waiting-room text"),
    "follow_up": _("Message after the consultation"),
    "disclaimer": _("Disclaimer"),
}
# The kinds a department has its own wording of; the others are the
# organisation's (its advanced settings).
DEPARTMENT_KINDS = ("waiting_room",)


def organisation_text(organisation, kind):
    """The organisation's own text of ``kind``, for every language."""
    if kind == "waiting_room":
        return organisation.waiting_room_text or ""
    if kind == "follow_up":
        return organisation.options["follow_up_text"]
    if kind == "disclaimer":
        return organisation.options["disclaimer"]
    raise ValueError(f"unknown client text kind {kind!r}")


def client_text(dbsession, organisation, kind, language, department_id=None):
    """The text of ``kind`` a client reading ``language`` sees, for an
    appointment of ``department_id`` (None: of no department)."""
    fallback = organisation_text(organisation, kind)
    if kind == "disclaimer" and not fallback:
        return ""
    scope = ClientText.department_id.is_(None)
    if department_id is not None and kind in DEPARTMENT_KINDS:
        scope = or_(scope, ClientText.department_id == department_id)
    rows = dbsession.scalars(
        select(ClientText).where(
            ClientText.organisation_id == organisation.id,
            ClientText.kind == kind,
            ClientText.language == language,
            scope,
        )
    ).all()
    # The department's own before the organisation's.
    rows.sort(key=lambda row: row.department_id is None)
    return rows[0].text if rows else fallback


def message_text(message, language):
    """A service message in ``language`` if it was written in it."""
    return (message.translations or {}).get(language) or message.text


def appointment_department_id(appointment):
    """The department whose texts an appointment's client reads: the
    appointment's own, else its practitioner's."""
    if appointment.department_id:
        return appointment.department_id
    return appointment.practitioner.department_id if appointment.practitioner else None


def follow_up_for(dbsession, organisation, appointment, person):
    """The follow-up message for ``person`` (the client or an extra
    participant of ``appointment``), in their language."""
    language = language_of(person, organisation)
    department_id = appointment_department_id(appointment)
    return client_text(dbsession, organisation, "follow_up", language, department_id)


def service_messages_for(dbsession, organisation, person, department_id):
    """The current service messages for ``department_id`` as ``person``
    reads them."""
    language = language_of(person, organisation)
    messages = current_messages(dbsession, organisation, department_id)
    return [message_text(m, language) for m in messages]
