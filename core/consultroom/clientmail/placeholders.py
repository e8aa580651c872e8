"""``*|name|*`` placeholders in the client e-mail templates: which exist
(the core's and those of the organisation's plugins), how a template is
checked when it is saved, and how they are filled in."""

import re
from dataclasses import dataclass

from consultroom.i18n import _

# name -> what it becomes (shown on the template page).
PLACEHOLDERS = {
    "consult_deeplink": _("The client's link to the waiting room"),
    "portal_deeplink": _("The client's link to their upcoming appointments"),
    "booking_welcome_from": _("The time from which the link admits the client"),
    "client_name": _("The client's name"),
    "practitioner_name": _("The practitioner (or department) the appointment is with"),
    "department_name": _("The appointment's department"),
    "organisation_name": _("Your organisation's name"),
    "date": _("The appointment's date"),
    "time": _("The appointment's start time"),
    "duration": _("The appointment's length in minutes"),
    "message": _("The personal message written when booking"),
}

OPEN, CLOSE = "*|", "|*"
_WELL_FORMED = re.compile(r"\*\|([a-z_]+)\|\*")
_SHOWN_MAX = 40  # how much of a malformed placeholder a message quotes
_NAME = re.compile(r"[a-z_]+")


def plugin_placeholders(request):
    """The ``MailPlaceholder`` s the organisation's plugins offer, by name.
    A name that cannot be written, or is taken, is a plugin's programming
    error: it stops the page rather than fill in the wrong value."""
    found = {}
    results = request.hooks.consultroom_mail_placeholders(request=request)
    for placeholder in (p for result in reversed(results) for p in (result or ())):
        name = placeholder.name
        if not _NAME.fullmatch(name) or name in PLACEHOLDERS or name in found:
            raise ValueError(f"mail placeholder {name!r} is malformed or offered twice")
        found[name] = placeholder
    return found


def available(request):
    """Every placeholder name a text may use, with what it becomes."""
    offered = plugin_placeholders(request)
    return {**PLACEHOLDERS, **{name: p.description for name, p in offered.items()}}


@dataclass(frozen=True)
class Problem:
    written: str  # as it appears in the text, to name it in the message
    malformed: bool  # False: well formed but unknown


def _quote_unclosed(text, start, stop):
    """The opening of an unclosed placeholder up to the next space or ``stop``."""
    fragment = text[start : stop if stop != -1 else len(text)]
    return fragment.split(None, 1)[0][:_SHOWN_MAX] if fragment.strip() else fragment


def problems(text, allowed=PLACEHOLDERS):
    """Every placeholder in ``text`` that is unknown or malformed (unclosed
    ``*|name``, empty ``*||*``, nested, a stray ``|*``), in order."""
    found, pos = [], 0
    while True:
        opening, closing = text.find(OPEN, pos), text.find(CLOSE, pos)
        if closing != -1 and (opening == -1 or closing < opening):
            found.append(Problem(CLOSE, True))  # closes nothing
            pos = closing + len(CLOSE)
            continue
        if opening == -1:
            return found
        inner = opening + len(OPEN)
        closing, nested = text.find(CLOSE, inner), text.find(OPEN, inner)
        if closing == -1 or (nested != -1 and nested < closing):
            found.append(Problem(_quote_unclosed(text, opening, nested), True))
            pos = inner  # a nested placeholder is checked on its own
            continue
        name = text[inner:closing]
        written = text[opening : closing + len(CLOSE)]
        if not name or not _WELL_FORMED.fullmatch(written):
            found.append(Problem(written[:_SHOWN_MAX], True))
        elif name not in allowed:
            found.append(Problem(written, False))
        pos = closing + len(CLOSE)


def problem_messages(text, allowed=PLACEHOLDERS):
    """Translation strings naming each problem placeholder of ``text``."""
    messages = []
    for problem in problems(text or "", allowed):
        if problem.malformed:
            messages.append(
                _("Malformed placeholder: ${placeholder}", mapping={"placeholder": problem.written})
            )
        else:
            messages.append(
                _("Unknown placeholder: ${placeholder}", mapping={"placeholder": problem.written})
            )
    return messages


def fill(text, values):
    """Replace every known placeholder by its value in one pass, so that a
    value which itself looks like a placeholder stays as it is."""
    return _WELL_FORMED.sub(lambda m: str(values.get(m.group(1), m.group(0))), text or "")
