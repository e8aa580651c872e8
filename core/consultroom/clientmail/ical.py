"""The iCalendar attachment: one event per appointment, kept up to date in the
client's calendar by its fixed UID and rising SEQUENCE.

icalendar is imported by the functions that write an event, not here:
~35 ms that every process (the web app, each command) would pay at start."""

from datetime import UTC
from email.utils import parseaddr

from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.mail import mail_outbox

PRODID = "-//Consultroom//Consultroom//EN"
FILENAME = "invite.ics"


def content_type(kind):
    """The attachment's Content-Type: calendar programs (Outlook, Gmail)
    act on an invitation only when its ``method`` is there as well as in
    the file (RFC 6047)."""
    return f"text/calendar; method={_method(kind)}"


def _method(kind):
    return "CANCEL" if kind == "cancellation" else "REQUEST"


def _utc(naive):
    return naive.replace(tzinfo=UTC)


def _address(email, name, **params):
    from icalendar import vCalAddress, vText  # when writing: see the module's docstring

    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    address.params.update(params)
    return address


def organiser_address(request):
    """The organisation's contact address, or else the platform's sender."""
    org = request.organisation
    return org.contact_email or parseaddr(mail_outbox(request.registry).sender)[1]


def calendar(request, appointment, kind, link, localizer, attendee=None):
    """The .ics bytes for ``kind`` of ``appointment`` for ``attendee`` (by
    default its client; an extra participant gets the same event, with their
    own link): a cancellation cancels the event, everything else requests it."""
    from icalendar import Calendar, Event  # when writing: see the module's docstring

    org, attendee = request.organisation, attendee or appointment.client
    cancelled = kind == "cancellation"
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", _method(kind))
    event = Event()
    event.add("uid", appointment.ical_uid)
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", _utc(utcnow()))
    event.add("dtstart", _utc(appointment.starts_at))
    event.add("dtend", _utc(appointment.ends_at))
    event.add(
        "summary",
        localizer.translate(
            _("Video consultation with ${organisation}", mapping={"organisation": org.name})
        ),
    )
    event.add(
        "description",
        localizer.translate(
            _("Enter the waiting room with this link: ${link}", mapping={"link": link})
        ),
    )
    event.add("url", link)
    event.add("location", link)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", _address(organiser_address(request), org.name))
    event.add(
        "attendee",
        _address(
            attendee.email,
            attendee.display_name,
            role="REQ-PARTICIPANT",
            partstat="NEEDS-ACTION",
            rsvp="FALSE",
        ),
    )
    cal.add_component(event)
    return cal.to_ical()
