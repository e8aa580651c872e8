"""SAML 2.0's pages: the assertion consumer that the identity provider
posts its response to, the same-site step that finishes the login in the
browser that started it, and the SP metadata document. The checks of the
response are in ``consultroom_sso.saml``; the login itself is the same as
for OpenID Connect (``consultroom_sso.views``)."""

import secrets

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from consultroom.web import ID
from consultroom_sso import saml
from consultroom_sso.connections import connection_or_404
from consultroom_sso.i18n import _
from consultroom_sso.models import Kind, SeenAssertion
from consultroom_sso.shared import Refused
from consultroom_sso.views import (
    STATE_REFUSED,
    attempt_for,
    complete,
    refused,
    store_pending,
    take_pending,
    usable,
)

SAML_UNKNOWN = Refused(
    "saml_request_unknown",
    _(
        "This answer of the identity provider was already used, has expired or answers"
        " another login. Log in again."
    ),
)


@view_config(route_name="sso.saml_acs", request_method="POST", require_csrf=False)
def saml_acs(request):
    """The IdP posts its response here (cross-site: the session cookie does
    not come along). The checked answer waits, under a new single-use token,
    for the same-site redirect to ``saml_finish`` in the starting browser.
    No CSRF token: the response is its own proof, tied to our request."""
    connection = None
    try:
        connection = usable(request, {Kind.saml})
        attempt = attempt_for(request)
        response = request.POST.get("SAMLResponse", "")
        request_id = saml.in_response_to(response)
        pending = take_pending(request, connection, request_id, same_browser=False)
        if pending is None:
            raise SAML_UNKNOWN
        answer = saml.verified_answer(request, connection, response, request_id)
        _remember_assertion(request, connection, answer)
        attempt.refund()
        token = secrets.token_urlsafe(32)
        store_pending(
            request,
            connection,
            token,
            browser_hash=pending.browser_hash,
            next_url=pending.next_url,
            link_user_id=pending.link_user_id,
            subject=answer["sub"][:255],
            email=answer["email"][:254],
            name=answer["name"][:200],
        )
        finish = request.route_path("sso.saml_finish", id=connection.id, _query={"token": token})
        return HTTPSeeOther(finish)
    except Refused as error:
        return refused(request, connection, error)


def _remember_assertion(request, connection, answer):
    """Refuse an assertion seen before; remember this one until it expires."""
    seen = request.dbsession.scalar(
        select(SeenAssertion.id).where(
            SeenAssertion.organisation_id == request.organisation.id,
            SeenAssertion.connection_id == connection.id,
            SeenAssertion.assertion_id == answer["assertion_id"][:255],
        )
    )
    if seen is not None or not answer["assertion_id"]:
        raise Refused("saml_replayed", SAML_UNKNOWN.message)
    request.dbsession.add(
        SeenAssertion(
            organisation_id=request.organisation.id,
            connection_id=connection.id,
            assertion_id=answer["assertion_id"][:255],
            expires_at=answer["expires_at"],
        )
    )
    request.dbsession.flush()


@view_config(route_name="sso.saml_finish", request_method="GET")
def saml_finish(request):
    connection = None
    try:
        connection = usable(request, {Kind.saml})
        attempt = attempt_for(request)
        pending = take_pending(request, connection, request.GET.get("token", ""))
        if pending is None or not pending.subject:
            raise STATE_REFUSED
        attempt.refund()
        claims = {
            "sub": pending.subject,
            "email": pending.email,
            "email_verified": "@" in pending.email,  # the IdP's, mapped by the admin
            "name": pending.name,
        }
        return complete(request, connection, pending, claims)
    except Refused as error:
        return refused(request, connection, error)


@view_config(route_name="sso.saml_metadata", request_method="GET")
def saml_metadata(request):
    """The SP metadata document, for the IdP's administrator."""
    connection = connection_or_404(request)
    if connection.kind is not Kind.saml:
        raise HTTPNotFound()
    response = request.response
    response.content_type = "application/samlmetadata+xml"
    response.text = saml.sp_metadata(request, connection)
    return response


def includeme(config):
    config.add_plugin_route("sso.saml_acs", f"/sso/{ID}/saml/acs")
    config.add_plugin_route("sso.saml_finish", f"/sso/{ID}/saml/finish")
    config.add_plugin_route("sso.saml_metadata", f"/sso/{ID}/saml/metadata")
    config.scan(".saml_views")
