"""The built-in texts: used when no template set applies, and offered as the
starting point of a new set. Translated like every other text, so each
language has its own defaults; the placeholders stay as written."""

from consultroom.i18n import _

SUBJECTS = {
    "invitation": _("Your video consultation on *|date|* at *|time|*"),
    "reminder": _("Reminder: your video consultation today at *|time|*"),
    "change": _("Changed: your video consultation is now on *|date|* at *|time|*"),
    "cancellation": _("Cancelled: your video consultation on *|date|* at *|time|*"),
}

_GREETING = _("Dear *|client_name|*,")
_LINK = _("Use this link to enter the waiting room; it admits you from *|booking_welcome_from|*:")
_PORTAL = _("All your appointments: *|portal_deeplink|*")
_SIGNATURE = _("Kind regards,\n*|organisation_name|*")

_BODIES = {
    "invitation": _(
        "You have a video consultation with *|practitioner_name|* on *|date|* at"
        " *|time|* (*|duration|* minutes)."
    ),
    "reminder": _(
        "This is a reminder of your video consultation with *|practitioner_name|*"
        " today, *|date|*, at *|time|* (*|duration|* minutes)."
    ),
    "change": _(
        "Your video consultation with *|practitioner_name|* has been changed. It is"
        " now on *|date|* at *|time|* (*|duration|* minutes)."
    ),
    "cancellation": _(
        "Your video consultation with *|practitioner_name|* on *|date|* at"
        " *|time|* has been cancelled. The link no longer works."
    ),
}


def default_texts(localizer, kind, portal=True):
    """``(subject, body)`` of the built-in ``kind`` in the localizer's
    language; without the portal's line when ``portal`` is False (an extra
    participant has no portal)."""
    t = localizer.translate
    parts = [t(_GREETING), t(_BODIES[kind]), "*|message|*"]
    if kind != "cancellation":
        parts.append(t(_LINK) + "\n*|consult_deeplink|*")
        if portal:
            parts.append(t(_PORTAL))
    parts.append(t(_SIGNATURE))
    return t(SUBJECTS[kind]), "\n\n".join(parts) + "\n"
