"""The client's portal link as staff handle it, on the client page: see and
copy it, e-mail it, print it as a letter with a QR code (for clients
reached by post), and rotate it when it went astray: the old address stops
working at once, and so does any portal session opened through it."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from consultroom.audit import record
from consultroom.clients.access import client_or_404
from consultroom.clients.contact import language_of
from consultroom.clients.models import new_token
from consultroom.i18n import _
from consultroom.mail import queue_mail
from consultroom.portal import pins
from consultroom.web import ID, flash
from consultroom.web.sites import org_url


def portal_url(request, client):
    """The portal's absolute address, from the configured public URL."""
    return org_url(request, request.organisation, f"/portal/{client.portal_token}")


def _client(request):
    return client_or_404(request, int(request.matchdict["id"]))


def _back(request, client):
    return HTTPSeeOther(request.route_path("client", id=client.id) + "#portal")


@view_config(route_name="client_portal_rotate", request_method="POST", permission="staff")
def rotate(request):
    client = _client(request)
    client.portal_token = new_token()
    pins.forget_pins(request, client)
    record(request, "client.portal_rotated", "client", client.id)
    flash(request, _("The portal link has been replaced. The old link no longer works."))
    return _back(request, client)


@view_config(route_name="client_portal_send", request_method="POST", permission="staff")
def send(request):
    client = _client(request)
    if not client.email:
        flash(request, _("This client has no e-mail address."), "error")
        return _back(request, client)
    org = request.organisation
    queue_mail(
        request,
        client.email,
        "portal_link",
        {"client": client, "org": org, "url": portal_url(request, client)},
        _("Your appointments with ${organisation}", mapping={"organisation": org.name}),
        language_of(client, org),
        ref=f"client:{client.id}",
    )
    record(request, "client.portal_link_sent", "client", client.id)
    flash(request, _("The portal link has been sent to ${email}.", mapping={"email": client.email}))
    return _back(request, client)


@view_config(route_name="client_portal_letter", request_method="GET", permission="staff")
def letter(request):
    # Here, not at the top: reportlab's PDF machinery costs every process
    # ~50 ms at start, for a letter now and then.
    from consultroom.portal.letter import letter_pdf

    client = _client(request)
    record(request, "client.portal_letter", "client", client.id)
    response = Response(
        body=letter_pdf(request, client, portal_url(request, client)),
        content_type="application/pdf",
    )
    response.content_disposition = 'inline; filename="portal-letter.pdf"'
    response.cache_control = "no-store"  # personal data and a credential
    return response


def includeme(config):
    base = f"/clients/{ID}/portal"
    config.add_route("client_portal_rotate", f"{base}/rotate", site="organisation")
    config.add_route("client_portal_send", f"{base}/send", site="organisation")
    config.add_route("client_portal_letter", f"{base}/letter.pdf", site="organisation")
    config.scan(__name__)
