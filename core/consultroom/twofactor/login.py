"""Where two-factor authentication meets logging in.

After a correct password a user with two-factor authentication is not logged
in: the session only holds a short-lived "pending" marker naming them, and
the second-factor page logs them in. The organisation's ``two_factor``
setting decides what happens to users without it: "allow" asks them after
each login to turn it on, "require" lets them do nothing but turn it on (or
log out).

The login pages (``consultroom.accounts``) do not know this feature: it
registers ``login_step`` as their ``ILoginStep``. A login provider that
proved a second factor itself (``start_staff_session(...,
second_factor_done=True)``) skips the step, and its session is not asked to
turn two-factor authentication on.
"""

import time

from pyramid.events import ContextFound
from pyramid.httpexceptions import HTTPSeeOther

from consultroom.accounts.models import User

# The same tenant check as for a logged-in user.
from consultroom.accounts.security import (
    SESSION_SECOND_FACTOR,
    ILoginStep,
    belongs_here,
    log_in,
)
from consultroom.twofactor.service import is_enabled

PENDING = "two_factor_pending"
PENDING_SECONDS = 5 * 60
# What a user who must still turn two-factor authentication on may open:
# enrolment, and what keeps or ends their session.
OPEN_WHILE_REQUIRED = {
    "two_factor_setup",
    "two_factor_login",
    "login",
    "logout",
    "logo",
    "session_status",
    "session_keep_alive",
    "logout_everywhere",
}


def policy(request):
    """``off``, ``allow`` or ``require``: the organisation's setting."""
    organisation = request.organisation
    return organisation.options["two_factor"] if organisation is not None else "off"


def login_step(request, user, next_url):
    """Log ``user`` in after a correct password, or ask for their second
    factor first (``ILoginStep``). Returns ``(where to send them, whether
    they are logged in now)``."""
    if is_enabled(request.dbsession, user):
        # A fresh session: nothing of the anonymous one carries over.
        request.session.invalidate()
        request.session[PENDING] = {
            "user": user.id,
            "generation": user.session_generation,
            "until": int(time.time()) + PENDING_SECONDS,
            "next": next_url,
        }
        return request.route_path("two_factor_login"), False
    log_in(request, user)
    return _after_login(request, user, next_url), True


def _after_login(request, user, next_url):
    """Where a user without a second factor goes once logged in: as the
    organisation's setting asks, to enrol now or to be asked to."""
    if user.is_superuser:
        return next_url
    mode = policy(request)
    if mode == "require":
        return request.route_path("two_factor_setup")
    if mode == "allow":
        return request.route_path("two_factor_prompt", _query={"next": next_url})
    return next_url


def pending_login(request):
    """``(user, next_url)`` of the login waiting for its second factor, or None."""
    marker = request.session.get(PENDING)
    if not isinstance(marker, dict) or marker.get("until", 0) < time.time():
        return None
    user = request.dbsession.get(User, marker["user"])
    if (
        user is None
        or not user.active
        or user.session_generation != marker["generation"]
        or not belongs_here(request, user)
    ):
        return None
    return user, marker["next"]


def _require_enrolment(event):
    request = event.request
    route = request.matched_route
    if route is None or route.name in OPEN_WHILE_REQUIRED or route.name.startswith("__"):
        return
    user = request.user
    # Support acting as a staff member must not enrol the member's phone; a
    # login provider that proved a second factor satisfied the requirement.
    if (
        user is None
        or user.is_superuser
        or request.support_user is not None
        or request.session.get(SESSION_SECOND_FACTOR)
        or policy(request) != "require"
        or is_enabled(request.dbsession, user)
    ):
        return
    raise HTTPSeeOther(request.route_path("two_factor_setup"))


def includeme(config):
    config.registry.registerUtility(login_step, ILoginStep)
    config.add_subscriber(_require_enrolment, ContextFound)
