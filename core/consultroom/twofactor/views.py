"""Two-factor pages: the second step of logging in, the prompt to turn it on,
enrolment with a QR code, new recovery codes and switching it off, and an
administrator switching it off for a staff member who lost their phone."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from consultroom.accounts.navigation import safe_next
from consultroom.accounts.security import can_manage_user, end_sessions, log_in, staff_from_url
from consultroom.audit import record
from consultroom.i18n import _
from consultroom.ratelimit import Attempt, Limit, client_address, limits_from_settings
from consultroom.twofactor import forms, service
from consultroom.twofactor.login import PENDING, pending_login, policy
from consultroom.web import ID, flash
from consultroom.web.qr import qr_code_svg
from consultroom.web.sites import BOTH_SITES


def _limits(request):
    s = request.registry.settings
    return {
        "account": limits_from_settings(s, "second_factor_account", 5, 15),
        "address": limits_from_settings(s, "second_factor_address", 20, 15),
    }


def _attempt(request, user):
    """A try at the user's second factor, counted as a failure of the account
    and the address until it proves right (``refund``); ``locked`` when
    either failed too often."""
    limits = _limits(request)
    return Attempt(
        request, (limits["account"], str(user.id)), (limits["address"], client_address(request))
    )


def _no_store(response):
    # Secrets and recovery codes must not stay in a browser or proxy cache.
    response.cache_control = "no-store"
    return response


WRONG_CODE = _("This code is not right. Check your app and try again.")


@view_config(route_name="two_factor_login", renderer="twofactor/login.html")
def second_factor(request):
    pending = pending_login(request)
    if pending is None:
        if PENDING in request.session:
            request.session.pop(PENDING)
            flash(request, _("Your login took too long. Log in again."), "error")
        return HTTPSeeOther(request.route_path("login"))
    user, next_url = pending
    form = forms.LoginCodeForm(request)
    if request.method == "POST" and form.validate():
        attempt = _attempt(request, user)
        if attempt.locked:
            form.add_error("code", Limit.message(attempt.locked))
            record(request, "login.blocked", "user", user.id, actor=user)
        else:
            kind = service.check_second_factor(request, user, form.code.data)
            if kind is not None:
                attempt.refund()
                _limits(request)["account"].clear(request, str(user.id))
                log_in(request, user)
                record(request, "login.success", "user", user.id, actor=user, second_factor=kind)
                if kind == "recovery":
                    _warn_recovery_codes_left(request, user)
                return HTTPSeeOther(next_url)
            record(request, "login.second_factor_failure", "user", user.id, actor=user)
            form.add_error("code", WRONG_CODE)
    return {"form": form}


def _warn_recovery_codes_left(request, user):
    left = service.recovery_codes_left(request.dbsession, user)
    flash(
        request,
        _(
            "You logged in with a recovery code, which now no longer works."
            " ${n} recovery codes are left; make new ones in your profile.",
            mapping={"n": left},
        ),
        "info",
    )


@view_config(route_name="two_factor_prompt", renderer="twofactor/prompt.html", permission="staff")
def prompt(request):
    next_url = safe_next(request)
    if policy(request) != "allow" or service.is_enabled(request.dbsession, request.identity):
        return HTTPSeeOther(next_url)
    return {"next_url": next_url}


@view_config(route_name="two_factor_setup", renderer="twofactor/setup.html", permission="staff")
def setup(request):
    user = request.identity
    row = service.enrolment(request, user)
    if row is None:
        flash(request, _("Two-factor authentication is already on."), "info")
        return HTTPSeeOther(request.route_path("profile"))
    form = forms.AppCodeForm(request)
    if request.method == "POST" and form.validate():
        codes = service.confirm(request, row, user, form.code.data)
        if codes is not None:
            # Sessions that logged in with the password alone end here.
            end_sessions(request, user)
            log_in(request, user)
            flash(request, _("Two-factor authentication is on."), "success")
            return _recovery_codes_page(request, codes)
        form.add_error("code", WRONG_CODE)
    _no_store(request.response)
    secret = service.secret_of(request, row)
    return {
        "form": form,
        "qr_code": qr_code_svg(service.provisioning_uri(request, row, user)),
        "secret": service.format_secret(secret),
        "required": policy(request) == "require",
    }


def _recovery_codes_page(request, codes):
    return _no_store(
        render_to_response("twofactor/recovery_codes.html", {"codes": codes}, request=request)
    )


def _proof_checked(request, user, proof, password_too=False):
    """Whether ``proof`` is a current code from the user's app (or, with
    ``password_too``, their password). Failures count towards the lockout of
    the second factor, and are flashed."""
    attempt = _attempt(request, user)
    if attempt.locked:
        flash(request, Limit.message(attempt.locked), "error")
        return False
    row = service.two_factor_of(request.dbsession, user)
    if service.accept_totp(request, row, proof) or (
        password_too and request.passwords.verify(user, proof)
    ):
        attempt.refund()
        return True
    flash(
        request,
        _("This is neither a current code from your app nor your password.")
        if password_too
        else WRONG_CODE,
        "error",
    )
    return False


def _valid_data(form, field):
    # An empty or oversized answer is a wrong answer: flashed, and counted.
    return form[field].data if form.validate() else ""


@view_config(route_name="two_factor_recovery_codes", permission="staff", request_method="POST")
def new_recovery_codes(request):
    user = request.identity
    if service.is_enabled(request.dbsession, user) and _proof_checked(
        request, user, _valid_data(forms.AppCodeForm(request), "code")
    ):
        record(request, "two_factor.recovery_codes_renewed", "user", user.id)
        return _recovery_codes_page(request, service.new_recovery_codes(request, user))
    return HTTPSeeOther(request.route_path("profile"))


@view_config(route_name="two_factor_disable", permission="staff", request_method="POST")
def disable(request):
    user = request.identity
    if service.is_enabled(request.dbsession, user) and _proof_checked(
        request, user, _valid_data(forms.DisableForm(request), "proof"), password_too=True
    ):
        service.disable(request, user)
        flash(request, _("Two-factor authentication is off."), "success")
    return HTTPSeeOther(request.route_path("profile"))


@view_config(
    route_name="staff_two_factor_reset", permission="department.manage", request_method="POST"
)
def staff_two_factor_reset(request):
    """Switch off a staff member's two-factor authentication (a lost phone);
    they can log in with their password and set it up again."""
    member = staff_from_url(request)
    # Not one's own: that needs a code or the password, on the profile page.
    if (
        not can_manage_user(request.identity, member)
        or member.id == request.identity.id
        or not service.is_enabled(request.dbsession, member)
    ):
        raise HTTPNotFound()
    service.disable(request, member, action="two_factor.reset")
    flash(
        request,
        _("Two-factor authentication of ${name} is off.", mapping={"name": member.name}),
        "success",
    )
    return HTTPSeeOther(request.route_path("staff_edit", id=member.id))


def includeme(config):
    org = "organisation"
    config.add_route("two_factor_login", "/login/code", site=BOTH_SITES)
    config.add_route("two_factor_prompt", "/two-factor", site=org)
    config.add_route("two_factor_setup", "/profile/two-factor", site=org)
    config.add_route("two_factor_recovery_codes", "/profile/two-factor/recovery-codes", site=org)
    config.add_route("two_factor_disable", "/profile/two-factor/disable", site=org)
    config.add_route("staff_two_factor_reset", f"/staff/{ID}/two-factor/reset", site=org)
    config.scan(__name__)
