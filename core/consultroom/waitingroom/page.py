"""What the client's waiting-room page shows: the appointment's local time,
the organisation's waiting-room text with its placeholders filled, the
current service messages, the disclaimer, and when (and with which phone
number) a client who waits long is reassured."""

from dataclasses import dataclass

from babel.dates import format_date, format_time
from pyramid.events import BeforeRender

from consultroom.clientmail.placeholders import fill
from consultroom.tenancy.timezones import to_local
from consultroom.waitingroom.messages import current_messages

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
    messages: list
    disclaimer: str
    # Minutes after which waiting.js reassures the client (0: never), and
    # the number they may call then (may be empty).
    long_minutes: int
    phone: str


def _department_id(appointment):
    if appointment.department_id:
        return appointment.department_id
    return appointment.practitioner.department_id if appointment.practitioner else None


def waiting_room(request, appointment):
    org = request.organisation
    local = to_local(appointment.starts_at, org)
    locale = request.locale_name
    with_name = (
        appointment.practitioner.name
        if appointment.practitioner
        else appointment.department.name
        if appointment.department
        else ""
    )
    values = {
        "client_name": appointment.client.display_name if appointment.client else "",
        "practitioner_name": with_name,
        "organisation_name": org.name,
        "date": format_date(local, "long", locale=locale),
        "time": format_time(local, "short", locale=locale),
    }
    return WaitingRoom(
        time=values["time"],
        with_name=with_name,
        text=fill(org.waiting_room_text, values),
        messages=current_messages(request.dbsession, org, _department_id(appointment)),
        disclaimer=org.options["disclaimer"],
        long_minutes=org.options["waiting_long_minutes"],
        phone=org.contact_phone or "",
    )


def _add_to_waiting_page(event):
    if event["renderer_name"] == "waitingroom/waiting.html":
        request = event["request"]
        event["waiting_room"] = lambda appointment: waiting_room(request, appointment)


def includeme(config):
    config.add_subscriber(_add_to_waiting_page, BeforeRender)
