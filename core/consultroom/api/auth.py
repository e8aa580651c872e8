"""Who is calling the API: the organisation's API key (``Authorization:
Bearer <key>``), acting with organisation-admin visibility, or a logged-in
staff member's session, seeing exactly what their pages show.

API views are registered with ``require_csrf=False`` and ``decorator=api_auth``:
the CSRF check is then made here, for session callers only. A request
authenticated by a key cannot be forged by another site (browsers do not
add the header), so it needs no CSRF token.
"""

import functools
import hmac
from dataclasses import dataclass

from pyramid.csrf import check_csrf_origin, check_csrf_token

from consultroom.accounts.models import User
from consultroom.api.errors import error_response
from consultroom.i18n import _
from consultroom.ratelimit import Attempt, Limit, client_address, limits_from_settings
from consultroom.tenancy.models import API_KEY_HINT_LENGTH, hash_api_key

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "X-CSRF-Token"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


@dataclass(frozen=True)
class Caller:
    # None with an API key: the access functions then show everything.
    user: User | None

    @property
    def by_key(self):
        return self.user is None


def _limit(request):
    return limits_from_settings(request.registry.settings, "api_key_address", 20, 15)


def _bearer(request):
    """The key of a Bearer Authorization header ("" if empty); None without one."""
    scheme, _sep, key = request.headers.get("Authorization", "").strip().partition(" ")
    return key.strip() if scheme.lower() == "bearer" else None


def _key_matches(organisation, key):
    expected = organisation.api_key_hash
    return bool(expected and key) and hmac.compare_digest(expected, hash_api_key(key))


class Refused(Exception):
    """Authentication failed: the response to send (committed, so that a
    failed key attempt is counted)."""

    def __init__(self, response):
        self.response = response


def authenticate(request):
    """The Caller, or raise Refused."""
    key = _bearer(request)
    if key is not None:
        return _by_key(request, key)
    user = request.identity
    if user is None:
        raise Refused(
            error_response(
                request,
                401,
                _("Give the organisation's API key as 'Authorization: Bearer <key>', or log in."),
                headers=CHALLENGE,
            )
        )
    if request.method not in SAFE_METHODS and not (
        check_csrf_token(request, header=CSRF_HEADER, raises=False)
        and check_csrf_origin(request, raises=False)
    ):
        raise Refused(
            error_response(
                request, 403, _("Send the session's CSRF token in the X-CSRF-Token header.")
            )
        )
    return Caller(user)


def _by_key(request, key):
    # A key has 256 random bits: the limit stops floods of wrong keys, not
    # guesses that could succeed. So the (cheap) check comes first, and a
    # valid key is never refused for failures of others; wrong ones count
    # per key prefix (the part an organisation's hint shows) and address.
    if _key_matches(request.organisation, key):
        return Caller(None)
    attempt = Attempt(
        request, (_limit(request), f"{key[:API_KEY_HINT_LENGTH]}:{client_address(request)}")
    )
    if attempt.locked:
        raise Refused(error_response(request, 429, Limit.message(attempt.locked)))
    raise Refused(
        error_response(request, 401, _("This API key is not valid here."), headers=CHALLENGE)
    )


def api_auth(view):
    """View decorator: authenticate, then call the view with ``request.caller`` set."""

    @functools.wraps(view)
    def wrapper(context, request):
        try:
            request.caller = authenticate(request)
        except Refused as refused:
            return refused.response
        return view(context, request)

    return wrapper
