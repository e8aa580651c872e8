"""Who is logged in, and what their role lets them do; logging in and
ending a user's sessions.

A staff member is only recognised on their own organisation's subdomain and
the hosting provider's superuser only on the console: a session cookie from
one tenant means nothing on another.

Two features above this one take part without being named here: two-factor
authentication registers itself as the step between a correct password and
a session (``ILoginStep``), and the session store drops a user's stored
sessions when ``end_sessions`` notifies ``SessionsEnded``.
"""

from pyramid.csrf import new_csrf_token
from pyramid.httpexceptions import HTTPNotFound
from pyramid.security import Allowed, Denied
from zope.interface import Interface

from consultroom.accounts.models import Role, User
from consultroom.web.sites import CONSOLE, ORGANISATION

SESSION_USER = "user_id"
SESSION_GENERATION = "user_generation"
# What proved the second factor where a login provider did (its method):
# two-factor authentication then asks for none of its own this session.
SESSION_SECOND_FACTOR = "second_factor_by"

# permission -> roles that have it
PERMISSIONS = {
    "staff": {Role.org_admin, Role.dept_admin, Role.practitioner},
    "department.manage": {Role.org_admin, Role.dept_admin},
    "organisation.manage": {Role.org_admin},
    "console": {Role.superuser},
}


def belongs_here(request, user):
    """Whether ``user`` may be logged in on this request's site: the
    superuser on the console only, staff on their own organisation's
    subdomain only. Whatever logs a user in or keeps them logged in checks
    this."""
    if user.is_superuser:
        return request.site == CONSOLE
    return request.site == ORGANISATION and user.organisation_id == request.organisation.id


def load_user(request):
    user_id = request.session.get(SESSION_USER)
    if user_id is None:
        return None
    user = request.dbsession.get(User, user_id)
    if (
        user is None
        or not user.active
        or user.session_generation != request.session.get(SESSION_GENERATION)
        or not belongs_here(request, user)
    ):
        return None
    return user


def log_in(request, user, second_factor_by=None):
    """Start a fresh session for ``user``: a new session id (the old one's
    row is deleted, so a cookie planted before login is worthless) and a new
    CSRF token. ``second_factor_by``: the login provider that proved a
    second factor (``consultroom.accounts.login.start_staff_session``)."""
    data = logged_in_session(user)  # read before the old session's row goes
    request.session.invalidate()
    request.session.update(data)
    if second_factor_by:
        request.session[SESSION_SECOND_FACTOR] = second_factor_by
    new_csrf_token(request)


def logged_in_session(user: User) -> dict[str, object]:
    """What a session holds once ``user`` has logged in."""
    return {
        SESSION_USER: user.id,
        SESSION_GENERATION: user.session_generation,
        "language": user.language,
    }


def log_out(request):
    """End this session on the server: its cookie, if stolen, is worthless."""
    request.session.invalidate()


class ILoginStep(Interface):
    """What stands between a correct password and a session: the one feature
    that asks for more (two-factor authentication) registers itself as this
    utility, so that the pages which log in after a password need not know
    it."""

    def __call__(request, user, next_url):
        """Log ``user`` in, or hold the login for a further proof. Returns
        ``(where to send them, whether they are logged in now)``."""


def start_login(request, user, next_url):
    """Log ``user`` in after a first factor (``consultroom.accounts.login``
    calls it), unless the login step (``ILoginStep``) asks for more first.
    Returns ``(where to send them, whether they are logged in now)``."""
    step = request.registry.queryUtility(ILoginStep)
    if step is not None:
        return step(request, user, next_url)
    log_in(request, user)
    return next_url, True


class SessionsEnded:
    """Notified by ``end_sessions``, in the request's transaction: whatever
    keeps something for each session of ``user`` drops it (the session store
    its rows and the user's open websockets: ``consultroom.sessions``)."""

    def __init__(self, request, user):
        self.request = request
        self.user = user


def end_sessions(request, user):
    """End every session of ``user``, this request's too if it is theirs.

    Raising the user's session generation ends them all at once, and also
    what is not a stored session of theirs yet: a login waiting for its
    second factor, a request of theirs that is still running. Call it before
    ``log_in`` when the user stays logged in here."""
    user.session_generation += 1
    if request.session.get(SESSION_USER) == user.id:
        request.session.invalidate()
    request.registry.notify(SessionsEnded(request, user))


class SecurityPolicy:
    def identity(self, request):
        return request.user

    def authenticated_userid(self, request):
        user = request.user
        return user.id if user else None

    def permits(self, request, context, permission):
        user = request.user
        if user is not None and user.role in PERMISSIONS.get(permission, ()):
            return Allowed(f"role {user.role.value} has {permission}")
        return Denied(f"{permission} needs one of {PERMISSIONS.get(permission)}")

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def staff_from_url(request):
    """The staff member whose id is in the URL, of the request's
    organisation; 404 for anyone else (or no one)."""
    # The route allows only digits.
    user = request.dbsession.get(User, int(request.matchdict["id"]))
    if user is None or user.organisation_id != request.organisation.id:
        raise HTTPNotFound()
    return user


def can_manage_user(actor, user):
    """Org admins manage all staff; department admins the practitioners of
    their own department; nobody manages the other organisation."""
    if actor.organisation_id != user.organisation_id:
        return False
    if actor.role is Role.org_admin:
        return True
    return (
        actor.role is Role.dept_admin
        and user.role is Role.practitioner
        and user.department_id is not None
        and user.department_id == actor.department_id
    )
