"""The idle-timeout warning's two requests (how long is left, stay logged
in) and "log out everywhere" on the profile page."""

from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.view import view_config

from consultroom.accounts.security import end_sessions
from consultroom.audit import record
from consultroom.i18n import _
from consultroom.web import flash
from consultroom.web.sites import BOTH_SITES


def _remaining(request):
    """Whole seconds until the logged-in session ends; 0 if there is none."""
    if request.identity is None:
        return 0
    return max(0, int(request.session.remaining().total_seconds()))


def _no_store(request):
    request.response.cache_control = "no-store"


@view_config(route_name="session_status", renderer="json", request_method="GET")
def session_status(request):
    # Asking is not activity: an idle tab polling must not keep the session.
    request.session.without_extending()
    _no_store(request)
    return {"remaining": _remaining(request)}


@view_config(route_name="session_keep_alive", renderer="json", request_method="POST")
def session_keep_alive(request):
    if request.identity is None:
        raise HTTPForbidden()
    request.session.keep_alive()
    _no_store(request)
    return {"remaining": _remaining(request)}


@view_config(route_name="logout_everywhere", request_method="POST")
def logout_everywhere(request):
    user = request.identity
    if user is None:
        raise HTTPForbidden()
    end_sessions(request, user)
    record(request, "sessions.ended", "user", user.id)
    flash(request, _("You are logged out on every device."), "success")
    return HTTPSeeOther(request.route_path("login"))


def includeme(config):
    config.add_route("session_status", "/session/status", site=BOTH_SITES)
    config.add_route("session_keep_alive", "/session/keep-alive", site=BOTH_SITES)
    config.add_route("logout_everywhere", "/session/end-all", site=BOTH_SITES)
    config.scan(__name__)
