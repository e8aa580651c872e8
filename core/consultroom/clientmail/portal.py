"""The client's portal: a public page, reached through the link in every
client e-mail, listing their upcoming appointments with this organisation
and the link to each one's waiting room."""

from datetime import timedelta

from pyramid.view import view_config
from sqlalchemy import select

from consultroom.appointments.display import format_local
from consultroom.appointments.models import Appointment, Status
from consultroom.appointments.service import MAX_DURATION
from consultroom.clients.contact import language_of
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.i18n import speak
from consultroom.ratelimit import find_by_token
from consultroom.web.errors import not_found


def _client(request):
    """The client whose portal token is in the URL, in this organisation.

    The token is the client's credential here: nobody is logged in, so the
    staff segregation of clients/access.py does not apply."""
    return find_by_token(
        request,
        lambda: request.dbsession.scalar(
            select(Client).where(
                Client.organisation_id == request.organisation.id,
                Client.portal_token == request.matchdict["token"],
            )
        ),
    )


@view_config(route_name="client_portal", renderer="clientmail/portal.html")
def portal(request):
    org = request.organisation
    client = _client(request)
    if client is None:
        return not_found(request)
    language = language_of(client, org)
    speak(request, language)
    now = utcnow()
    # Appointments still under way are listed too; none lasts longer than MAX_DURATION.
    candidates = request.dbsession.scalars(
        select(Appointment)
        .where(
            Appointment.organisation_id == org.id,
            Appointment.client_id == client.id,
            Appointment.status == Status.scheduled,
            Appointment.starts_at >= now - timedelta(minutes=MAX_DURATION),
        )
        .order_by(Appointment.starts_at)
    ).all()
    rows = []
    for appointment in candidates:
        if appointment.ends_at < now:
            continue
        date, time = format_local(appointment.starts_at, org, request.locale_name)
        rows.append(
            {
                "date": date,
                "time": time,
                "appointment": appointment,
                "link": f"/c/{appointment.token}",
            }
        )
    # The token is in the address: keep it out of caches and Referer headers.
    request.response.cache_control = "no-store"
    request.response.headers["Referrer-Policy"] = "no-referrer"
    return {"client": client, "appointments": rows}


def includeme(config):
    config.add_route("client_portal", "/portal/{token}", site="organisation")
    config.scan(__name__)
