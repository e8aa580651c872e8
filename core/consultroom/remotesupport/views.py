"""The pages of remote support: "Act as" on the console, and entering and
ending the session on the organisation's subdomain (see
``consultroom.remotesupport``)."""

import hashlib
import secrets
from datetime import timedelta

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.tweens import EXCVIEW
from pyramid.view import view_config
from sqlalchemy import update
from zope.sqlalchemy import mark_changed

from consultroom.accounts.models import User
from consultroom.accounts.security import log_in, log_out
from consultroom.audit import record
from consultroom.db import utcnow
from consultroom.db.scope import organisation_scope
from consultroom.i18n import _
from consultroom.remotesupport import SUPPORT_USER, allowed, support_account
from consultroom.remotesupport.models import SupportToken
from consultroom.tenancy.models import Organisation
from consultroom.web import ID, flash
from consultroom.web.sites import ORGANISATION, org_url, public_base

TOKEN_LIFETIME = timedelta(minutes=2)


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


# ---- on the console


@view_config(route_name="console_support", permission="console", request_method="POST")
def act_as(request):
    organisation = request.dbsession.get(Organisation, int(request.matchdict["id"]))
    if organisation is None:
        raise HTTPNotFound()
    # The console's page about one organisation: its staff, and no other's.
    with organisation_scope(request.dbsession, organisation.id):
        member = request.dbsession.get(User, int(request.matchdict["user_id"]))
    if member is None or member.organisation_id != organisation.id or not member.active:
        raise HTTPNotFound()
    if not allowed(organisation):
        flash(
            request,
            _("${name} does not allow remote support.", mapping={"name": organisation.name}),
            "error",
        )
        return HTTPSeeOther(request.route_path("console_org", id=organisation.id))
    token = secrets.token_urlsafe(32)
    request.dbsession.add(
        SupportToken(
            organisation_id=organisation.id,
            user_id=member.id,
            support_user_id=request.identity.id,
            token_hash=_hash(token),
            expires_at=utcnow() + TOKEN_LIFETIME,
        )
    )
    record(
        request,
        "support.request",
        "user",
        member.id,
        organisation=organisation,
        staff_name=member.name,
    )
    return HTTPSeeOther(
        org_url(request, organisation, request.route_path("support_enter", token=token))
    )


# ---- on the organisation's subdomain


def _redeem(request, token):
    """The unused, unexpired token of this organisation, now used; or None.
    One UPDATE decides, so that two requests cannot both use it."""
    now = utcnow()
    token_id = request.dbsession.scalar(
        update(SupportToken)
        .where(
            SupportToken.token_hash == _hash(token),
            SupportToken.used_at.is_(None),
            SupportToken.expires_at > now,
            SupportToken.organisation_id == request.organisation.id,
        )
        .values(used_at=now)
        .returning(SupportToken.id)
    )
    mark_changed(request.dbsession)
    return request.dbsession.get(SupportToken, token_id) if token_id else None


def _may_start(request, token):
    member, support = token.user, support_account(request.dbsession, token.support_user_id)
    return (
        allowed(request.organisation)
        and member.active
        and member.organisation_id == request.organisation.id
        and support is not None
        and support.is_superuser
        and support.active
    )


@view_config(route_name="support_enter")
def enter(request):
    token = _redeem(request, request.matchdict["token"])
    if token is None or not _may_start(request, token):
        response = render_to_response("audit/support_invalid.html", {}, request=request)
        response.status = 410
        return response
    log_in(request, token.user)
    request.session[SUPPORT_USER] = token.support_user_id
    record(request, "support.start", "user", token.user.id, actor=token.user)
    response = HTTPSeeOther(request.route_path("home"))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _end(request, reason):
    organisation, member = request.organisation, request.identity
    record(request, "support.end", "user", member.id if member else None, reason=reason)
    log_out(request)
    return organisation


@view_config(route_name="support_end", request_method="POST", permission="staff")
def end(request):
    if request.support_user is None:
        return HTTPSeeOther(request.route_path("home"))
    organisation = _end(request, "ended")
    console = request.route_url(
        "console_org", id=organisation.id, _app_url=public_base(request.registry.settings)
    )
    return HTTPSeeOther(console)


def _withdrawn(request):
    """Why the ongoing support session may not go on, or None."""
    support = request.support_user
    if not allowed(request.organisation):
        return "not_allowed"
    if support is None or not support.is_superuser or not support.active:
        return "support_account"
    return None


def support_tween_factory(handler, registry):
    """End a support session before anything else happens in it once it is no
    longer allowed; the redirect (not an error) lets the ending be recorded."""

    def tween(request):
        if (
            SUPPORT_USER not in request.session
            or request.site != ORGANISATION
            or request.identity is None
        ):
            return handler(request)
        reason = _withdrawn(request)
        if reason is None:
            return handler(request)
        _end(request, reason)
        flash(request, _("The remote support session has ended."), "info")
        return HTTPSeeOther(request.route_path("login"))

    return tween


def includeme(config):
    config.add_route(
        "console_support", f"/organisations/{ID}/support/{{user_id:[0-9]{{1,9}}}}", site="console"
    )
    config.add_route("support_enter", "/support/enter/{token}", site=ORGANISATION)
    config.add_route("support_end", "/support/end", site=ORGANISATION)
    config.add_tween(
        "consultroom.remotesupport.views.support_tween_factory",
        under="pyramid_tm.tm_tween_factory",
        over=EXCVIEW,
    )
    config.scan(__name__)
