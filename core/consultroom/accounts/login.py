"""The one way into a staff session, for the password form and for the login
providers of plugins (single sign-on, say), and the providers' say over
password logins (the ``consultroom_login_method`` hook).

A provider proves who someone is on its own routes, then calls
``start_staff_session``: from there on a login is the same whatever proved
it (the tenant check, the audit trail, two-factor authentication, a fresh
session). Only the proof differs.
"""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from consultroom.accounts.forms import LoginForm
from consultroom.accounts.navigation import safe_path
from consultroom.accounts.security import belongs_here, log_in, start_login
from consultroom.audit import record
from consultroom.i18n import _

PASSWORD = "password"  # a login method's name in the audit trail, no password  # nosec B105
# Not why: an inactive account and one of another organisation look alike.
REFUSED = _("This account cannot log in here.")


def start_staff_session(request, user, method, *, next_url=None, second_factor_done=False):
    """Log ``user`` in on this request's site, as a correct password does.

    Call it once your provider has proved that the person at the browser is
    ``user`` (a staff member: ``consultroom.accounts.models.User``).
    ``method`` names the proof in the audit trail (``"password"``, your
    plugin's id, ``"sso:google"``...; at most 50 characters). ``next_url``
    is where to go once logged in: a path on this site (anything else, or
    ``None``, is the home page).

    Refused, with the login page and the message "This account cannot log
    in here." (status 403) and an audit entry ``login.refused``: an inactive
    user, and a user who does not belong to this site (another
    organisation's staff, or the hosting provider's user outside the
    console).

    Otherwise the organisation's two-factor policy applies as after a
    password: a user with two-factor authentication on is sent to enter
    their code first (not logged in yet: audit ``login.first_factor_ok``);
    where the organisation requires it, a user without it must turn it on
    first. Pass ``second_factor_done=True`` only when your provider itself
    verified a second factor (an identity provider's MFA claim, checked by
    you) and the organisation chose to accept that: the user is then logged
    in at once and the organisation's two-factor rules ask nothing of this
    session.

    Logging in starts a new session (new id and CSRF token; the old
    session's row is deleted), records ``login.success`` with the method,
    and sets the cookie when the request's transaction commits. Returns the
    response to send: a 303 redirect, or the refusal page.
    """
    method = str(method)[:50]
    if not user.active or not belongs_here(request, user):
        return _refuse(request, user, method)
    target = safe_path(request, next_url)
    if second_factor_done:
        log_in(request, user, second_factor_by=method)
        logged_in = True
    else:
        target, logged_in = start_login(request, user, target)
    detail = {"method": method}
    if second_factor_done:
        detail["second_factor"] = method
    action = "login.success" if logged_in else "login.first_factor_ok"
    record(request, action, "user", user.id, actor=user, **detail)
    return HTTPSeeOther(target)


def _refuse(request, user, method):
    if belongs_here(request, user):
        record(request, "login.refused", "user", user.id, method=method, reason="inactive")
    else:
        # Another organisation's user is none of this one's audit trail's business.
        record(request, "login.refused", method=method, reason="not of this site")
    page = {"form": LoginForm(request, bind=False), "next": "", "refusal": REFUSED}
    response = render_to_response("login.html", page, request=request)
    response.status = 403
    return response


def login_method(request, email, user):
    """What a login provider says instead of the password for ``email``
    (``consultroom_login_method``): a ``LoginMethod``, or None for the
    password as usual."""
    return request.hooks.consultroom_login_method(request=request, email=email, user=user)
