"""The client's portal, ``/portal/<token>``: the link in every client e-mail.

The token alone opens little: the waiting-room buttons of the appointments
whose link is open now (the same window in which the appointment's own link
admits the client, so a client on their way in is never stopped by a PIN).
Everything else (upcoming and past appointments, and what plugins add: the
questionnaires to fill in, the chat) needs the PIN e-mailed to the client's
address on record (``pins``)."""

from datetime import timedelta
from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.appointments.display import format_local
from consultroom.appointments.models import Appointment, Status
from consultroom.appointments.service import MAX_DURATION, link_state
from consultroom.clients.contact import language_of
from consultroom.db import utcnow
from consultroom.i18n import _, speak
from consultroom.mail import queue_mail
from consultroom.portal import pins
from consultroom.portal.access import portal_client
from consultroom.ratelimit import Limit
from consultroom.web import flash
from consultroom.web.errors import not_found

PAST_SHOWN = 20
PIN_SENT = _(
    "If we have an e-mail address for you, we have sent a PIN to it. "
    "It is valid for ${minutes} minutes.",
    mapping={"minutes": pins.PIN_MINUTES},
)


def _private(request):
    # The token is in the address: keep it out of caches and Referer headers.
    request.response.cache_control = "no-store"
    request.response.headers["Referrer-Policy"] = "no-referrer"


def _row(request, appointment):
    org = request.organisation
    date, time = format_local(appointment.starts_at, org, request.locale_name)
    open_now = link_state(appointment, org) == "open"
    return {
        "date": date,
        "time": time,
        "appointment": appointment,
        "link": f"/c/{appointment.token}" if open_now else None,
    }


def _appointments(request, client, *conditions, order):
    return request.dbsession.scalars(
        select(Appointment)
        .where(
            Appointment.organisation_id == request.organisation.id,
            Appointment.client_id == client.id,
            Appointment.status == Status.scheduled,
            *conditions,
        )
        .order_by(order)
    ).all()


def _upcoming(request, client):
    now = utcnow()
    # Appointments still under way are listed too; none lasts longer than MAX_DURATION.
    candidates = _appointments(
        request,
        client,
        Appointment.starts_at >= now - timedelta(minutes=MAX_DURATION),
        order=Appointment.starts_at,
    )
    return [_row(request, a) for a in candidates if a.ends_at >= now]


def _past(request, client):
    now = utcnow()
    candidates = _appointments(
        request,
        client,
        Appointment.starts_at < now,
        order=Appointment.starts_at.desc(),
    )
    return [_row(request, a) for a in candidates if a.ends_at < now][:PAST_SHOWN]


def _page(request, client, **extra):
    speak(request, language_of(client, request.organisation))
    _private(request)
    values = {
        "client": client,
        "token": client.portal_token,
        "error": None,
        "pin_minutes": pins.PIN_MINUTES,
        **extra,
    }
    if pins.is_open(request, client):
        upcoming = _upcoming(request, client)
        request.override_renderer = "portal/portal.html"
        return {**values, "appointments": upcoming, "past": _past(request, client)}
    open_now = [row for row in _upcoming(request, client) if row["link"]]
    request.override_renderer = "portal/locked.html"
    return {**values, "appointments": open_now, "next": _next(request, client)}


def _next(request, client):
    """Where to go after the PIN: a page of this portal named by ``next``
    (a plugin's portal page sends the client here first), else the portal."""
    home = request.route_path("client_portal", token=client.portal_token)
    wanted = request.params.get("next", "")
    parts = urlsplit(wanted)
    if not parts.scheme and not parts.netloc and parts.path.startswith(home + "/"):
        return parts.path
    return home


@view_config(route_name="client_portal", renderer="portal/locked.html")
def portal(request):
    client = portal_client(request)
    if client is None:
        return not_found(request)
    return _page(request, client)


@view_config(route_name="portal_pin_request", request_method="POST")
def request_pin(request):
    client = portal_client(request)
    if client is None:
        return not_found(request)
    pin, locked = pins.new_pin(request, client)
    if locked:
        flash(request, Limit.message(locked), "error")
    else:
        if client.email:
            _mail_pin(request, client, pin)
        flash(request, PIN_SENT)
    home = request.route_path("client_portal", token=client.portal_token)
    return HTTPSeeOther(f"{home}?pin=sent&next={_next(request, client)}")


def _mail_pin(request, client, pin):
    language = language_of(client, request.organisation)
    queue_mail(
        request,
        client.email,
        "portal_pin",
        {"client": client, "org": request.organisation, "pin": pin, "minutes": pins.PIN_MINUTES},
        _("Your PIN for ${organisation}", mapping={"organisation": request.organisation.name}),
        language,
        ref=f"client:{client.id}",
    )


@view_config(route_name="portal_unlock", request_method="POST", renderer="portal/locked.html")
def unlock(request):
    client = portal_client(request)
    if client is None:
        return not_found(request)
    pin = pins.normalised(request.POST.get("pin"))
    if pin is None:
        return _page(request, client, error=_("Enter the six digits of the PIN from the e-mail."))
    try:
        right = pins.check_pin(request, client, pin)
    except pins.Locked as locked:
        request.response.status = 429
        return _page(request, client, error=Limit.message(locked.remaining))
    if not right:
        request.response.status = 400
        return _page(
            request,
            client,
            error=_("That PIN is not right, or no longer valid. Ask for a new one if needed."),
        )
    pins.open_session(request, client)
    return HTTPSeeOther(_next(request, client))


@view_config(route_name="portal_leave", request_method="POST")
def leave(request):
    client = portal_client(request)
    if client is None:
        return not_found(request)
    pins.close_session(request)
    return HTTPSeeOther(request.route_path("client_portal", token=client.portal_token))


def includeme(config):
    config.add_route("client_portal", "/portal/{token}", site="organisation")
    config.add_route("portal_pin_request", "/portal/{token}/pin", site="organisation")
    config.add_route("portal_unlock", "/portal/{token}/unlock", site="organisation")
    config.add_route("portal_leave", "/portal/{token}/leave", site="organisation")
    config.scan(__name__)
