"""Logging in through a connection: the button's route sends the browser to
the provider, the OpenID callback (SAML's pages: ``saml_views``) checks
the answer, and both end in the core's
``start_staff_session`` (the same session, audit trail and two-factor
policy as a password login); linking a logged-in staff member's account to
a provider, once.

What a login needs to come back to (state, nonce, PKCE verifier, where to
go next) is stored server-side, bound to the browser that started it, and
deleted by the one DELETE that uses it: an answer works once, in that
browser, for ten minutes. Every refusal shows a page that says what to do
and writes ``sso.refused`` with the reason to the audit trail.
"""

import hashlib
import secrets
from datetime import timedelta

from authlib.common.security import generate_token
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config
from sqlalchemy import delete, select
from zope.sqlalchemy import mark_changed

from consultroom.accounts.login import start_staff_session
from consultroom.accounts.models import User
from consultroom.accounts.navigation import safe_path
from consultroom.accounts.service import AccountError, check_package_limit, find_staff
from consultroom.audit import record
from consultroom.db import utcnow
from consultroom.ratelimit import Attempt, Limit, client_address, limits_from_settings
from consultroom.secretbox import secret_box
from consultroom.web import ID, flash
from consultroom.web.sites import org_url
from consultroom_sso import oidc, saml
from consultroom_sso.connections import connection_or_404
from consultroom_sso.i18n import _, page
from consultroom_sso.models import Connection, Identity, Kind, PendingLogin
from consultroom_sso.shared import INVALID_TOKEN, Refused

LOGIN_SECONDS = 600
OIDC = {Kind.google, Kind.microsoft, Kind.oidc}
BROWSER_KEY = "sso.browser"
NOT_CONFIGURED = _("This login is not set up completely. Ask your organisation's administrator.")
NOT_LINKED = _(
    "Your account at this provider is not linked to a staff account here. Log in with your"
    " password and link it from your profile, or ask your administrator."
)


def _hash(value):
    return hashlib.sha256(value.encode()).hexdigest()


def _browser(request):
    """This browser's random mark, kept in its session (made on first use)."""
    mark = request.session.get(BROWSER_KEY)
    if not mark:
        mark = request.session[BROWSER_KEY] = secrets.token_urlsafe(32)
    return mark


def method_of(connection):
    return f"sso:{connection.id}"


def _callback_url(request, connection):
    path = request.route_path("sso.callback", id=connection.id)
    return org_url(request, request.organisation, path)


def _session(request, connection):
    if connection.client_secret is None:  # the form asks for one; data from elsewhere may not
        raise Refused("not_configured", NOT_CONFIGURED)
    secret = secret_box(request.registry).decrypt(connection.client_secret).decode()
    return oidc.client(connection, secret, _callback_url(request, connection))


def usable(request, kinds=None):
    """The enabled connection of the address (404 unless this organisation's
    and, given ``kinds``, of one of them)."""
    connection = connection_or_404(request)
    if kinds is not None and connection.kind not in kinds:
        raise HTTPNotFound()
    if not connection.enabled:
        raise Refused("connection_disabled", _("This way of logging in is switched off."))
    return connection


def refused(request, connection, error):
    """The refusal page, and the audit entry that names the reason."""
    record(
        request,
        "sso.refused",
        "sso_connection",
        connection.id if connection is not None else None,
        reason=error.reason,
    )
    values = page(request, message=error.message, connection=connection)
    response = render_to_response("consultroom_sso:templates/refused.html", values, request=request)
    response.status = error.status
    return response


def attempt_for(request):
    """An answer from a provider, counted as a failed try of this address
    until it proves good (``refund()``): checking signatures costs, and a
    flood of forged answers is cut off."""
    limit = limits_from_settings(request.registry.settings, "sso_address", 20, 15)
    attempt = Attempt(request, (limit, client_address(request)))
    if attempt.locked:
        raise Refused("rate_limited", Limit.message(attempt.locked), status=429)
    return attempt


def begin(request, connection, next_url="", link_user=None):
    """Store the login under way and send the browser to the provider."""
    if connection.kind is Kind.saml:
        url, key = saml.authn_request(request, connection)
        secrets_of_oidc = {}
    else:
        key, nonce, verifier = (
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            generate_token(64),
        )
        session = _session(request, connection)
        url = oidc.authorization_url(
            connection, session, state=key, nonce=nonce, code_verifier=verifier
        )
        secrets_of_oidc = {"nonce": nonce, "code_verifier": verifier}
    store_pending(
        request,
        connection,
        key,
        browser_hash=_hash(_browser(request)),
        next_url=safe_path(request, next_url)[:500],
        link_user_id=link_user.id if link_user is not None else None,
        **secrets_of_oidc,
    )
    return HTTPSeeOther(url)


def store_pending(request, connection, key, **values):
    request.dbsession.add(
        PendingLogin(
            organisation_id=request.organisation.id,
            connection_id=connection.id,
            key_hash=_hash(key),
            expires_at=utcnow() + timedelta(seconds=LOGIN_SECONDS),
            **values,
        )
    )


@view_config(route_name="sso.start", request_method="GET")
def start(request):
    try:
        connection = usable(request)
        return begin(request, connection, request.GET.get("next", ""))
    except Refused as error:
        return refused(request, None, error)


def take_pending(request, connection, key, same_browser=True):
    """The login under way that ``key`` names (its state, SAML request id
    or finishing token), used up by this call; None for a key that is
    unknown, used or expired, or (``same_browser``) another browser's."""
    if not key or len(key) > 100:
        return None
    row = request.dbsession.execute(
        delete(PendingLogin)
        .where(
            PendingLogin.key_hash == _hash(key),
            PendingLogin.organisation_id == request.organisation.id,
            PendingLogin.connection_id == connection.id,
        )
        .returning(
            PendingLogin.browser_hash,
            PendingLogin.nonce,
            PendingLogin.code_verifier,
            PendingLogin.next_url,
            PendingLogin.link_user_id,
            PendingLogin.subject,
            PendingLogin.email,
            PendingLogin.name,
            PendingLogin.expires_at,
        )
        .execution_options(synchronize_session=False)
    ).first()
    mark_changed(request.dbsession)  # a DELETE the ORM did not see: commit it
    if row is None or row.expires_at <= utcnow():
        return None
    if same_browser and row.browser_hash != _hash(request.session.get(BROWSER_KEY) or ""):
        return None
    return row


STATE_REFUSED = Refused(
    "state_invalid",
    _("This login link was already used, has expired or was started elsewhere. Log in again."),
)


@view_config(route_name="sso.callback", request_method="GET")
def callback(request):
    connection = None
    try:
        connection = usable(request, OIDC)
        attempt = attempt_for(request)
        pending = take_pending(request, connection, request.GET.get("state", ""))
        if pending is None:
            raise STATE_REFUSED
        if request.GET.get("error"):
            raise Refused("provider_error", _("The identity provider did not log you in."))
        code = request.GET.get("code", "")
        if not code or len(code) > 2000:
            raise Refused("code_missing", INVALID_TOKEN)
        session = _session(request, connection)
        id_token = oidc.exchange(
            connection, session, code=code, code_verifier=pending.code_verifier
        )
        claims = oidc.verify_id_token(connection, id_token, pending.nonce)
        attempt.refund()
        return complete(request, connection, pending, claims)
    except Refused as error:
        return refused(request, connection, error)


def complete(request, connection, pending, claims):
    """The login (or the link) that the proven ``claims`` make, for the
    login under way ``pending``."""
    if pending.link_user_id is not None:
        return _link(request, connection, pending, claims)
    return _log_in(request, connection, pending, claims)


def _identity(request, connection, subject):
    return request.dbsession.scalar(
        select(Identity).where(
            Identity.organisation_id == request.organisation.id,
            Identity.connection_id == connection.id,
            Identity.subject == subject,
        )
    )


def _log_in(request, connection, pending, claims):
    subject = claims["sub"]
    identity = _identity(request, connection, subject)
    user = identity.user if identity is not None else _create_user(request, connection, claims)
    second_factor = connection.accept_mfa and oidc.used_second_factor(claims)
    return start_staff_session(
        request,
        user,
        method_of(connection),
        next_url=pending.next_url,
        second_factor_done=second_factor,
    )


def _create_user(request, connection, claims):
    """A new staff member for a subject the provider vouches for, where the
    connection creates users; never one for an address that has an account
    already (that account links itself from its profile)."""
    if not connection.create_users:
        raise Refused("not_linked", NOT_LINKED)
    email = oidc.verified_email(claims)
    if not email:
        raise Refused(
            "no_verified_email",
            _(
                "The identity provider did not give a verified e-mail address,"
                " so no account is made."
            ),
        )
    organisation = request.organisation
    if find_staff(request.dbsession, organisation, email) is not None:
        raise Refused("email_taken", NOT_LINKED)
    try:
        check_package_limit(request.dbsession, organisation)
    except AccountError as exc:
        raise Refused("package_full", exc.args[0]) from exc
    name = str(claims.get("name") or email.split("@")[0]).strip()[:200] or email
    user = User(
        organisation_id=organisation.id,
        name=name,
        email=email,
        role=connection.role,
        department_id=connection.department_id,
        password_hash=None,
    )
    request.dbsession.add(user)
    request.dbsession.flush()
    request.dbsession.add(
        Identity(
            organisation_id=organisation.id,
            connection_id=connection.id,
            subject=claims["sub"][:255],
            user_id=user.id,
        )
    )
    record(
        request,
        "sso.user_created",
        "user",
        user.id,
        actor=user,
        connection=connection.id,
        role=user.role.value,
    )
    return user


def _link(request, connection, pending, claims):
    """Link the logged-in staff member who started this to the provider's subject."""
    user = request.identity
    if user is None or user.id != pending.link_user_id:
        raise Refused(
            "link_other_user", _("Log in again, then link your account from your profile.")
        )
    if _identity(request, connection, claims["sub"]) is not None:
        raise Refused(
            "subject_taken", _("This account at the provider is linked to a staff member already.")
        )
    if linked(request, connection, user):
        raise Refused("already_linked", _("Your account is linked to this provider already."))
    request.dbsession.add(
        Identity(
            organisation_id=request.organisation.id,
            connection_id=connection.id,
            subject=claims["sub"][:255],
            user_id=user.id,
        )
    )
    record(request, "sso.linked", "user", user.id, connection=connection.id)
    flash(
        request,
        _(
            "Your account is linked: you can log in with ${name} now.",
            mapping={"name": connection.name},
        ),
    )
    return HTTPSeeOther(request.route_path("profile"))


def linked(request, connection, user):
    return (
        request.dbsession.scalar(
            select(Identity.id).where(
                Identity.organisation_id == request.organisation.id,
                Identity.connection_id == connection.id,
                Identity.user_id == user.id,
            )
        )
        is not None
    )


@view_config(route_name="sso.link", request_method="POST", permission="staff")
def link(request):
    """From the profile: go to the provider to link this account, once."""
    try:
        connection = usable(request)
        if linked(request, connection, request.identity):
            raise Refused("already_linked", _("Your account is linked to this provider already."))
        return begin(request, connection, link_user=request.identity)
    except Refused as error:
        return refused(request, None, error)


def enabled_connections(request):
    return request.dbsession.scalars(
        select(Connection)
        .where(Connection.organisation_id == request.organisation.id, Connection.enabled)
        .order_by(Connection.name, Connection.id)
    ).all()


def includeme(config):
    config.add_plugin_route("sso.start", f"/sso/{ID}/login")
    config.add_plugin_route("sso.callback", f"/sso/{ID}/callback")
    config.add_plugin_route("sso.link", f"/sso/{ID}/link")
    config.scan(".views")
