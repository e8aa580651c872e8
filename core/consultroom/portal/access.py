"""Finding the client of a portal address, for the portal's own pages and
for plugins that add pages under ``/portal/<token>/`` (a plugin's page
calls ``unlocked_client`` and so needs the PIN like the portal itself).

A wrong token is answered with a response, not raised: raising aborts the
transaction, and with it the count of the guess (``find_by_token``)."""

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from consultroom.clients.models import Client
from consultroom.portal import pins
from consultroom.ratelimit import find_by_token
from consultroom.web.errors import not_found


def portal_client(request):
    """The client whose portal token is in the URL, in this organisation, or
    None (guesses are limited per address).

    The token is the client's credential here: nobody is logged in, so the
    staff segregation of clients/access.py does not apply."""
    client = find_by_token(
        request,
        lambda: request.dbsession.scalar(
            select(Client).where(
                Client.organisation_id == request.organisation.id,
                Client.portal_token == request.matchdict["token"],
            )
        ),
    )
    return client


def unlocked_client(request):
    """``(client, None)`` when this browser has opened the portal of the
    URL's client with the PIN; else ``(None, response)``, the response to
    return: not found, or the portal's PIN step, which comes back to this
    page afterwards. ::

        client, refusal = unlocked_client(request)
        if refusal is not None:
            return refusal
    """
    client = portal_client(request)
    if client is None:
        return None, not_found(request)
    if pins.is_open(request, client):
        return client, None
    home = request.route_path("client_portal", token=client.portal_token)
    return None, HTTPSeeOther(f"{home}?next={request.path}")
