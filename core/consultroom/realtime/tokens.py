"""Saying hello with a token (a client's appointment link, a guest's
invitation): limited per client address like an invalid link over HTTP.

The try counts before the token is looked up and stays counted when it
matches nothing; while the address is locked out, even a valid token is
refused.
"""

from consultroom.i18n import _
from consultroom.ratelimit import Limit, TooManyTries, find_by_token
from consultroom.realtime.connection import Refused

MAX_TOKEN = 64


def by_token(connection, hello, find, make, not_found):
    """The role for the hello's token, or Refused. ``find(connection, token)``
    looks the token's object up (None when it matches nothing) and
    ``make(connection, found)`` makes the role of it or refuses; a token that
    matches nothing is refused with ``not_found``. The lookup commits, so that
    a try stays counted when it fails."""
    token = hello.get("token")
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        raise Refused("unauthorized", _("Unknown role or token."))
    request = connection.request
    with request.tm:
        try:
            found = find_by_token(request, lambda: find(connection, token))
        except TooManyTries as locked:
            refusal = Refused("rate_limited", Limit.message(locked.remaining))
        else:
            if found is not None:
                return make(connection, found)
            refusal = Refused("unauthorized", not_found)
    raise refusal
