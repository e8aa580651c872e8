"""How appointments are shown to people: whom they are with, their local date
and time in a reader's language, the client's link, and a stable colour per
practitioner or department for the "today" overview. Staff pages, the
client's pages and the client e-mails all say it the same way."""

from dataclasses import dataclass

from babel.dates import format_date, format_time

from consultroom.accounts.models import User
from consultroom.i18n import regional
from consultroom.tenancy.timezones import to_local
from consultroom.web.sites import org_url

GOLDEN_ANGLE = 137.508  # consecutive ids get hues far apart
DEPARTMENT_HUE_OFFSET = 200  # a department and a person with the same id differ


@dataclass(frozen=True)
class Owner:
    """Whom an appointment is with, for grouping and colouring."""

    key: str  # "p12" or "d3": unique across people and departments
    name: str
    colour: str  # a CSS colour


NOBODY = Owner("none", "", "hsl(0, 0%, 45%)")


def department_id_of(appointment):
    """The appointment's department, or else its practitioner's."""
    if appointment.department_id:
        return appointment.department_id
    return appointment.practitioner.department_id if appointment.practitioner else None


def department_of(appointment):
    return appointment.department or (
        appointment.practitioner.department if appointment.practitioner else None
    )


def with_name(appointment):
    """Whom the appointment is with: the practitioner, else the department."""
    if appointment.practitioner:
        return appointment.practitioner.name
    department = department_of(appointment)
    return department.name if department else ""


def format_local(moment, organisation, language):
    """``(date, time)`` of a naive UTC moment, local and in ``language`` as
    written in the organisation's region."""
    local = to_local(moment, organisation)
    locale = regional(language, organisation.timezone)
    return format_date(local, "full", locale=locale), format_time(local, "short", locale=locale)


def consult_link(request, appointment):
    """The client's absolute link to the appointment, on the organisation's site."""
    return org_url(request, request.organisation, f"/c/{appointment.token}")


def colour(thing):
    """The same colour for the same practitioner or department, on every page
    and every day: a hue derived from the id. Saturation and lightness are
    fixed, dark enough to stand out from a white page."""
    offset = 0 if isinstance(thing, User) else DEPARTMENT_HUE_OFFSET
    hue = round(thing.id * GOLDEN_ANGLE + offset) % 360
    return f"hsl({hue}, 65%, 38%)"


def owner(appointment, by="practitioner"):
    """The practitioner (else the department) the appointment is with; with
    ``by="department"`` the department (the practitioner's own if needed)."""
    if by == "department":
        thing = department_of(appointment)
    else:
        thing = appointment.practitioner or appointment.department
    if thing is None:
        return NOBODY
    prefix = "p" if isinstance(thing, User) else "d"
    return Owner(f"{prefix}{thing.id}", thing.name, colour(thing))
