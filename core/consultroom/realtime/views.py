"""GET /ws: the websocket of the waiting and consultation rooms.

The request runs outside pyramid_tm (consultroom.db's activate hook); the
tween below resolves the site, session and user in a short transaction of
its own, and the socket then opens one transaction per message.

A client's or guest's token is limited like an invalid link over HTTP: per
address, counted before it is looked up and kept when it matches nothing;
while the address is locked out, even a valid token is refused.
"""

from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.accounts.models import STAFF_ROLES
from consultroom.appointments.models import Appointment
from consultroom.appointments.service import link_state
from consultroom.i18n import _
from consultroom.ratelimit import Limit, TooManyTries, find_by_token
from consultroom.realtime import frames
from consultroom.realtime.connection import Connection, Refused
from consultroom.realtime.roles import ClientRole, GuestRole, StaffRole
from consultroom.room.service import invite_by_token
from consultroom.waitingroom.live import Staff, client_name


def websocket_tween_factory(handler, registry):
    """For a websocket, load what routing and the tweens under pyramid_tm
    read (the site, the session, the user) in one short transaction: they
    are reified, so later reads do not touch the database."""

    def websocket_tween(request):
        if "wsgi.websocket" in request.environ:
            with request.tm:
                request.site_and_organisation  # noqa: B018
                request.session  # noqa: B018
                request.user  # noqa: B018
        return handler(request)

    return websocket_tween


def same_origin(request):
    """Whether the page that opened the socket is the organisation's own:
    the Origin's host and port equal the Host the socket was opened on."""
    origin = request.headers.get("Origin", "")
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()


def _staff(connection):
    user = connection.request.user
    if user is None or user.role not in STAFF_ROLES:
        raise Refused("unauthorized", _("Log in again."))
    return StaffRole(connection, Staff.of(user))


CLIENT_REFUSED = _("This link does not open the waiting room now.")
GUEST_REFUSED = _("This invitation is no longer valid.")


def _appointment(connection, token):
    return connection.request.dbsession.scalar(
        select(Appointment).where(
            Appointment.organisation_id == connection.organisation_id, Appointment.token == token
        )
    )


def _client(connection, appointment):
    if link_state(appointment, connection.request.organisation) != "open":
        raise Refused("unauthorized", CLIENT_REFUSED)
    return ClientRole(connection, appointment.id, client_name(appointment))


def _invite(connection, token):
    return invite_by_token(connection.request.dbsession, connection.organisation_id, token)


def _guest(connection, invite):
    return GuestRole(connection, invite.id, invite.room_id, invite.name)


# Per role with a token: what finds the token's object, what makes the role
# of it (or refuses), and the refusal of a token that matches nothing.
TOKEN_ROLES = {
    "client": (_appointment, _client, CLIENT_REFUSED),
    "guest": (_invite, _guest, GUEST_REFUSED),
}


def _by_token(connection, role, token):
    """The role for a token, or Refused; the try counts until the token is
    found (and commits, so that it stays counted when it is not)."""
    find, make, not_found = TOKEN_ROLES[role]
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


def authenticate(connection, hello):
    """The role for the hello message, or Refused."""
    role, token = hello.get("role"), hello.get("token")
    if role == "staff":
        with connection.request.tm:
            return _staff(connection)
    if role in TOKEN_ROLES and isinstance(token, str) and len(token) <= 64:
        return _by_token(connection, role, token)
    raise Refused("unauthorized", _("Unknown role or token."))


@view_config(route_name="realtime_ws", request_method="GET")
def websocket(request):
    ws = request.environ.get("wsgi.websocket")
    if ws is None:
        raise HTTPBadRequest()
    if not same_origin(request):
        # gevent-websocket has already answered the upgrade: close at once,
        # having read and sent nothing.
        frames.close(ws, 1008)
        return Response()
    Connection(ws, request, request.registry["realtime_limits"]).serve(authenticate)
    return Response()
