"""What the client's waiting-room page shows: the appointment's local time,
the waiting-room text with its placeholders filled, the current service
messages and the disclaimer, each in the reader's language where written in
it (``consultroom.waitingroom.texts``), and when (and with which phone
number) a client who waits long is reassured."""

from dataclasses import dataclass

from babel.dates import format_date, format_time
from pyramid.events import BeforeRender

from consultroom.clientmail.placeholders import fill
from consultroom.i18n import regional
from consultroom.tenancy.timezones import to_local
from consultroom.waitingroom.messages import current_messages
from consultroom.waitingroom.texts import appointment_department_id, client_text, message_text

WAITING_ROOM_PLACEHOLDERS = (
    "client_name",
    "practitioner_name",
    "organisation_name",
    "date",
    "time",
)


@dataclass
class WaitingRoom:
    time: str
    with_name: str
    text: str
    messages: list  # of texts
    disclaimer: str
    # Minutes after which waiting.js reassures the client (0: never), and
    # the number they may call then (may be empty).
    long_minutes: int
    phone: str


def waiting_room(request, appointment):
    """The page speaks the reader's language (the client's, or a
    participant's on their own link): its texts are in it too."""
    org = request.organisation
    local = to_local(appointment.starts_at, org)
    locale = request.locale_name
    department_id = appointment_department_id(appointment)
    with_name = (
        org.addressed(appointment.practitioner.name, locale)
        if appointment.practitioner
        else appointment.department.name
        if appointment.department
        else ""
    )
    values = {
        "client_name": appointment.client.display_name if appointment.client else "",
        "practitioner_name": with_name,
        "organisation_name": org.name,
        "date": format_date(local, "long", locale=regional(locale, org.timezone)),
        "time": format_time(local, "short", locale=regional(locale, org.timezone)),
    }
    db = request.dbsession
    return WaitingRoom(
        time=values["time"],
        with_name=with_name,
        text=fill(client_text(db, org, "waiting_room", locale, department_id), values),
        messages=[message_text(m, locale) for m in current_messages(db, org, department_id)],
        disclaimer=client_text(db, org, "disclaimer", locale, department_id),
        long_minutes=org.options["waiting_long_minutes"],
        phone=org.contact_phone or "",
    )


def _add_to_waiting_page(event):
    if event["renderer_name"] == "waitingroom/waiting.html":
        request = event["request"]
        event["waiting_room"] = lambda appointment: waiting_room(request, appointment)


def includeme(config):
    config.add_subscriber(_add_to_waiting_page, BeforeRender)
