"""What the connections' form and both protocols share: a refused login,
comma-separated lists, and which addresses a provider may have."""

from urllib.parse import urlsplit

from consultroom_sso.i18n import _

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
INVALID_TOKEN = _("The identity provider's answer could not be verified, so you are not logged in.")


class Refused(Exception):
    """A login refused: ``reason`` for the audit trail, ``message`` (a
    translation string) for the person at the browser."""

    def __init__(self, reason, message, status=403):
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status


def split_list(text):
    """The non-empty, lower-case items of a comma-separated list."""
    return [item.strip().lower() for item in (text or "").split(",") if item.strip()]


def secure_address(url):
    """Whether a provider may be at ``url``: https, or plain http on this
    machine (development and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in LOOPBACK
