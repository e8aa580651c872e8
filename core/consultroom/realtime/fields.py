"""Reading a socket message's fields: a field that is missing or of the
wrong kind is refused as ``malformed`` (docs/realtime.md, "Errors")."""

from consultroom.i18n import _
from consultroom.realtime.connection import Refused


def _invalid(key):
    return Refused("malformed", _("The message has no valid ${field}.", mapping={"field": key}))


def integer(message, key):
    """A positive 32-bit integer (an id)."""
    value = message.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
        raise _invalid(key)
    return value


def text(message, key, max_length=64):
    """A non-empty string of at most ``max_length`` characters."""
    value = message.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        raise _invalid(key)
    return value


def boolean(message, key):
    value = message.get(key)
    if not isinstance(value, bool):
        raise _invalid(key)
    return value
