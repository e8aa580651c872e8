"""A login provider for Consultroom's tests (and the example of its doors in
docs/plugins.md): staff log in with a one-time keycard code that an
administrator issued them, instead of a password.

It uses the authentication doors as a single sign-on plugin would: a
button in the login page's ``login`` slot, its own login route that ends in
``start_staff_session``, ``consultroom_login_method`` to forbid password
logins where the organisation says so, and a periodic worker job
(``consultroom_worker_jobs``) that removes expired codes.

A code is 128 random bits, stored as its SHA-256 only; it works once (it is
deleted by the one DELETE that redeems it), for ten minutes, and only on
its own organisation's site.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from markupsafe import Markup
from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render
from pyramid.view import view_config
from sqlalchemy import ForeignKey, String, delete
from sqlalchemy.orm import Mapped, mapped_column
from zope.sqlalchemy import mark_changed

from consultroom.accounts.login import start_staff_session
from consultroom.accounts.models import User
from consultroom.accounts.security import can_manage_user, staff_from_url
from consultroom.audit import record
from consultroom.db import Base, utcnow
from consultroom.db.scope import OrganisationScoped
from consultroom.hookspecs import LoginMethod, WorkerJob, fills_slots, hookimpl
from consultroom.plugins import PluginInfo
from consultroom.ratelimit import Attempt, Limit, client_address, limits_from_settings
from consultroom.tenancy.options import BoolOption, ChoiceOption, OptionSet
from consultroom.web import ID, flash

_ = TranslationStringFactory("consultroom_keycard")

plugin = PluginInfo(
    name="Keycard",
    description="Staff log in with one-time codes that an administrator issues.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
    settings=OptionSet(
        (
            ChoiceOption(
                "password_login",
                _("Staff who try their password"),
                default="allowed",
                choices=(
                    ("allowed", _("log in with it as usual")),
                    ("refused", _("are told to use a keycard")),
                    ("keycard_page", _("are sent to the keycard page")),
                ),
            ),
            BoolOption("second_factor", _("A keycard code counts as the second factor")),
        )
    ),
    migrations="consultroom_keycard.migrations",
)

VALID_FOR = timedelta(minutes=10)
METHOD = "keycard"


class KeycardCode(OrganisationScoped, Base):
    __tablename__ = "keycard_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]


def _hash(code):
    return hashlib.sha256(code.encode()).hexdigest()


def issue_code(dbsession, user):
    """A new code for ``user``, valid for ten minutes; only its hash is kept."""
    code = secrets.token_urlsafe(16)
    dbsession.add(
        KeycardCode(
            organisation_id=user.organisation_id,
            user_id=user.id,
            code_hash=_hash(code),
            expires_at=utcnow() + VALID_FOR,
        )
    )
    dbsession.flush()
    return code


def _limit(request):
    # Guessing 128 bits is hopeless; the limit keeps the form from being a load.
    return limits_from_settings(request.registry.settings, "keycard_address", 20, 15)


def redeem(request, code):
    """The staff member of an unexpired code of this organisation, which
    this call used up; None for any other code. One conditional DELETE: of
    two requests with the same code only one gets its row."""
    user_id = request.dbsession.scalar(
        delete(KeycardCode)
        .where(
            KeycardCode.code_hash == _hash(code),
            KeycardCode.organisation_id == request.organisation.id,
            KeycardCode.expires_at > utcnow(),
        )
        .returning(KeycardCode.user_id)
        .execution_options(synchronize_session=False)
    )
    mark_changed(request.dbsession)  # a DELETE the ORM did not see: commit it
    return request.dbsession.get(User, user_id) if user_id is not None else None


@view_config(
    route_name="keycard.login",
    request_method="GET",
    renderer="consultroom_keycard:templates/page.html",
)
def keycard_page(request):
    """The provider's own login page: the keycard form alone."""
    # A rendered template of ours: markup, not text to escape.
    return {"form": Markup(_login_button(request, _next(request)))}  # nosec B704


@view_config(route_name="keycard.login", request_method="POST")
def keycard_login(request):
    attempt = Attempt(request, (_limit(request), client_address(request)))
    if attempt.locked:
        flash(request, Limit.message(attempt.locked), "error")
        return HTTPSeeOther(request.route_path("login"))
    code = request.POST.get("code", "").strip()
    user = redeem(request, code) if 0 < len(code) <= 100 else None
    if user is None:
        record(request, "keycard.code_refused")
        flash(request, _("This keycard code does not work. Ask for a new one."), "error")
        return HTTPSeeOther(request.route_path("login"))
    attempt.refund()
    return start_staff_session(
        request,
        user,
        METHOD,
        next_url=request.POST.get("next"),
        second_factor_done=request.plugin_settings("keycard")["second_factor"],
    )


@view_config(
    route_name="keycard.issue",
    renderer="consultroom_keycard:templates/code.html",
    permission="department.manage",
    request_method="POST",
)
def issue(request):
    """An administrator issues a code for a staff member they manage; it is
    shown once."""
    member = staff_from_url(request)
    if not can_manage_user(request.identity, member) or not member.active:
        raise HTTPNotFound()
    code = issue_code(request.dbsession, member)
    record(request, "keycard.issued", "user", member.id)
    request.response.cache_control = "no-store"
    return {
        "title": _("Keycard code for ${name}", mapping={"name": member.name}),
        "explanation": _("Give this code to them. It works once, within ten minutes."),
        "back": _("Back"),
        "code": code,
        "member": member,
    }


@hookimpl
@fills_slots("login", "staff_member")
def consultroom_template_slot(request, slot, context):
    if slot == "login" and request.identity is None:
        return _login_button(request, context.get("next", ""))
    if slot == "staff_member" and can_manage_user(request.identity, context["member"]):
        return _issue_button(request, context["member"])
    return None


def _login_button(request, next_url):
    t = request.localizer.translate
    return render(
        "consultroom_keycard:templates/login_slot.html",
        {
            "action": request.route_path("keycard.login"),
            "token": get_csrf_token(request),
            "next": next_url,
            "legend": t(_("Log in with a keycard")),
            "label": t(_("Keycard code")),
            "submit": t(_("Log in with a keycard")),
        },
        request=request,
    )


def _issue_button(request, member):
    return Markup(
        '<form method="post" action="{action}" class="keycard-issue">'
        '<input type="hidden" name="csrf_token" value="{token}">'
        '<button type="submit">{label}</button></form>'
    ).format(
        action=request.route_path("keycard.issue", id=member.id),
        token=get_csrf_token(request),
        label=request.localizer.translate(_("Issue a keycard code")),
    )


@hookimpl
def consultroom_login_method(request, email, user):
    # The same answer for every address: it tells nobody who has an account.
    choice = request.plugin_settings("keycard")["password_login"]
    if choice == "keycard_page":
        return LoginMethod(url=request.route_path("keycard.login", _query={"next": _next(request)}))
    if choice == "refused":
        return LoginMethod(
            message=request.localizer.translate(
                _("Staff of this organisation log in with a keycard, not a password.")
            )
        )
    return None


def _next(request):
    return request.params.get("next", "")


def expire_codes(request):
    """The worker job: forget the organisation's expired codes."""
    removed = request.dbsession.execute(
        delete(KeycardCode).where(
            KeycardCode.organisation_id == request.organisation.id,
            KeycardCode.expires_at <= utcnow(),
        )
    ).rowcount
    mark_changed(request.dbsession)
    return removed


JOBS = [WorkerJob("keycard.expire_codes", timedelta(minutes=5), expire_codes)]


@hookimpl
def consultroom_worker_jobs():
    return JOBS


def includeme(config):
    config.add_plugin_route("keycard.login", "/keycard/login")
    config.add_plugin_route("keycard.issue", f"/keycard/issue/{ID}")
    # Not the migrations: they are Alembic's, and importing Alembic costs each start ~0.1 s.
    config.scan(ignore=".migrations")
