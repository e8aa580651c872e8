"""How appointments look on staff pages: local times, and a stable colour
per practitioner or department for the "today" overview."""

from dataclasses import dataclass

from consultroom.accounts.models import User
from consultroom.clientmail.compose import department_of

GOLDEN_ANGLE = 137.508  # consecutive ids get hues far apart
DEPARTMENT_HUE_OFFSET = 200  # a department and a person with the same id differ


@dataclass(frozen=True)
class Owner:
    """Whom an appointment is with, for grouping and colouring."""

    key: str  # "p12" or "d3": unique across people and departments
    name: str
    colour: str  # a CSS colour


NOBODY = Owner("none", "", "hsl(0, 0%, 45%)")


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
