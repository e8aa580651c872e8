"""``request.session``: a dict loaded from its ``server_session`` row and
written back in the request's own transaction (a before-commit hook), so a
session changes exactly when the request's other changes are committed.

The cookie carries 256 random bits and nothing else; it is sent only after
the commit that stored its row. An unused session ends after the idle timeout
of its site (the organisation's "session_idle_minutes", the console's
``session.idle_minutes`` setting) and any session after ``session.max_hours``.

A session is stored only once something is put in it: a visitor whose
session stays empty costs no row. A form shown to such a visitor (the login
page) still needs a CSRF token; it gets an *anonymous* id in the cookie
instead of a row, and the token is an HMAC of that id and the site. Only
that browser's cookie makes the token match, as with a stored token. An
anonymous id never becomes a stored session's id (storing starts a fresh
id, keeping the token), and a stored session's id is never taken as an
anonymous one, so an ended session's cookie stays worthless.
"""

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from pyramid.interfaces import ISession
from sqlalchemy import bindparam, delete, insert, select, update
from transaction.interfaces import NoTransaction
from zope.interface import implementer

from consultroom.accounts.models import User
from consultroom.accounts.security import SESSION_USER
from consultroom.db import utcnow
from consultroom.sessions.models import StoredSession

COOKIE = "consultroom"
CSRF_KEY = "_csrft_"
FLASH_KEY = "_f_"
# An unchanged session's last_seen is written at most this often.
TOUCH_EVERY = timedelta(minutes=1)
# Anonymous ids: "a.<issued, Unix time>.<256 random bits>". Stored
# sessions' ids (token_urlsafe) never contain a dot.
ANONYMOUS = "a."
_ANONYMOUS_ID = re.compile(r"a\.([0-9]{1,11})\.[A-Za-z0-9_-]{43}")
_CLEAR = object()


def hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _new_anonymous_id():
    issued = int(time.time())  # utcnow's instant, as Unix time
    return f"{ANONYMOUS}{issued}.{secrets.token_urlsafe(32)}"


def _live_anonymous_id(request, session_id):
    """``session_id`` if it is an anonymous id within the maximum age, else None."""
    match = _ANONYMOUS_ID.fullmatch(session_id)
    if match is None:
        return None
    # Bounded like any session: a copied cookie's token does not work for ever.
    issued_at = datetime.fromtimestamp(int(match[1]), UTC).replace(tzinfo=None)
    if not issued_at <= utcnow() < issued_at + max_age(request.registry.settings):
        return None
    return session_id


def _anonymous_csrf_token(request, anonymous_id):
    key = request.registry.settings["session.secret"].encode()
    message = f"csrf:{_site_organisation_id(request)}:{anonymous_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def idle_timeout(settings: Mapping[str, Any], organisation: Any) -> timedelta:
    if organisation is not None:
        minutes = organisation.options["session_idle_minutes"]
    else:
        minutes = int(settings.get("session.idle_minutes", 30))
    return timedelta(minutes=minutes)


def max_age(settings: Mapping[str, Any]) -> timedelta:
    return timedelta(hours=int(settings.get("session.max_hours", 12)))


def expires_at(
    settings: Mapping[str, Any], organisation: Any, created_at: datetime, last_seen: datetime
) -> datetime:
    """When a session of ``organisation``'s site (None: the console) ends if
    unused after ``last_seen``: the idle timeout, capped by the maximum age."""
    idle = idle_timeout(settings, organisation)
    return min(last_seen + idle, created_at + max_age(settings))


def _site_organisation_id(request):
    organisation = request.organisation
    return organisation.id if organisation is not None else None


@implementer(ISession)
class Session(dict):
    """One browser's session. Mutations mark it changed; reading does not."""

    def __init__(self, request, row=None, had_cookie=False, anonymous_id=None):
        super().__init__(row.data if row is not None else {})
        self._request = request
        self._hash = row.id_hash if row is not None else None
        self._had_cookie = had_cookie
        self._anonymous_id = anonymous_id
        self._anonymous_is_new = False  # an anonymous id to send in the cookie
        now = utcnow()
        self._created_at = row.created_at if row is not None else now
        self._last_seen = row.last_seen if row is not None else now
        self.new = row is None
        self._ended = []  # hashes of rows to delete when saving
        self._changed = False
        self._extend = True  # whether this request counts as activity
        self._touch_now = False
        self._cookie = None  # after commit: a new session id, or _CLEAR
        self._committed = False

    # --- ISession ------------------------------------------------------------------

    @property
    def created(self):
        return self._created_at.replace(tzinfo=UTC).timestamp()

    def changed(self):
        self._changed = True

    def invalidate(self):
        if self._hash is not None:
            self._ended.append(self._hash)
        self._hash = None
        self._anonymous_id = None
        self._anonymous_is_new = False
        self._created_at = utcnow()
        self.new = True
        super().clear()
        self.changed()

    def flash(self, msg, queue="", allow_duplicate=True):
        storage = self.setdefault(FLASH_KEY + queue, [])
        if allow_duplicate or msg not in storage:
            storage.append(msg)
            self.changed()

    def pop_flash(self, queue=""):
        return self.pop(FLASH_KEY + queue, [])

    def peek_flash(self, queue=""):
        return self.get(FLASH_KEY + queue, [])

    def new_csrf_token(self):
        token = secrets.token_hex(20)
        self[CSRF_KEY] = token
        return token

    def get_csrf_token(self):
        token = self.get(CSRF_KEY)
        if token:
            return token
        if self or self._hash is not None:
            return self.new_csrf_token()
        return self._anonymous_token()

    def _anonymous_token(self):
        """The token of a session that stores nothing (see the module docstring)."""
        if self._anonymous_id is None:
            self._anonymous_id = _new_anonymous_id()
            self._anonymous_is_new = True
        return _anonymous_csrf_token(self._request, self._anonymous_id)

    # --- dict methods that change the session ---------------------------------------

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.changed()

    def __delitem__(self, key):
        super().__delitem__(key)
        self.changed()

    def clear(self):
        super().clear()
        self.changed()

    def update(self, *args, **kw):
        super().update(*args, **kw)
        self.changed()

    def setdefault(self, key, default=None):
        if key not in self:
            self.changed()
        return super().setdefault(key, default)

    def pop(self, key, *default):
        if key in self:
            self.changed()
        return super().pop(key, *default)

    def popitem(self):
        self.changed()
        return super().popitem()

    # --- idle time ---------------------------------------------------------------------

    def remaining(self):
        """How long until this session ends if unused from now on."""
        settings = self._request.registry.settings
        return self._expires_at(self._last_seen, settings) - utcnow()

    def keep_alive(self):
        """Count this request as activity even if a minute has not passed."""
        self._last_seen = utcnow()
        self._touch_now = True

    def without_extending(self):
        """Do not count this request as activity (a status check)."""
        self._extend = False

    def _expires_at(self, last_seen, settings):
        return expires_at(settings, self._request.organisation, self._created_at, last_seen)

    # --- saving ---------------------------------------------------------------------

    def _save(self):
        if not self and not self._ended and self._hash is None:
            # A visitor with nothing stored: no row, so no database session.
            self._cookie = self._anonymous_cookie()
            return
        db = self._request.dbsession
        for old in self._ended:
            db.execute(delete(StoredSession).where(StoredSession.id_hash == old))
        if not self:
            if self._hash is not None:
                db.execute(delete(StoredSession).where(StoredSession.id_hash == self._hash))
            self._cookie = self._anonymous_cookie()
            return
        now = utcnow()
        settings = self._request.registry.settings
        values = {}
        if (
            self._hash is None
            or self._extend
            and (self._touch_now or now - self._last_seen >= TOUCH_EVERY)
        ):
            values.update(last_seen=now, expires_at=self._expires_at(now, settings))
        if self._changed or self._hash is None:
            values.update(data=self._data_to_store(), user_id=self.get(SESSION_USER))
        if self._hash is None:
            session_id = secrets.token_urlsafe(32)
            db.execute(
                insert(StoredSession).values(
                    id_hash=hash_id(session_id),
                    created_at=self._created_at,
                    organisation_id=_site_organisation_id(self._request),
                    **values,
                )
            )
            self._cookie = session_id
        elif values:
            result = db.execute(
                update(StoredSession)
                .where(StoredSession.id_hash == self._hash)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 0:
                # Ended meanwhile (logged out everywhere): not brought back.
                self._cookie = _CLEAR

    def _anonymous_cookie(self):
        """What the cookie of a session that stores nothing becomes."""
        if self._anonymous_is_new:
            return self._anonymous_id
        if self._had_cookie and self._anonymous_id is None:
            return _CLEAR
        return None

    def _data_to_store(self):
        data = dict(self)
        if self._hash is None and self._anonymous_id is not None:
            # The forms this visitor was shown keep working with the new id.
            data.setdefault(CSRF_KEY, _anonymous_csrf_token(self._request, self._anonymous_id))
        return data

    def _after_commit(self, success):
        self._committed = success

    def _send_cookie(self, request, response):
        if not self._committed or self._cookie is None:
            return
        if self._cookie is _CLEAR:
            response.delete_cookie(COOKIE, path="/")
            return
        secure = request.registry.settings.get("session.secure", "true").lower() != "false"
        response.headerlist.append(("Set-Cookie", _cookie_text(self._cookie, secure)))


def _cookie_text(session_id, secure):
    """The Set-Cookie value webob's ``set_cookie`` writes for the session id,
    written directly: webob checks and quotes any value, which cost 5 % of
    the login page, and an id is ours (an anonymous id or token_urlsafe:
    letters, digits, ``-``, ``_`` and dots), never quoted."""
    return f"{COOKIE}={session_id}; Path=/;{' secure;' if secure else ''} HttpOnly; SameSite=Lax"


_USER_ROW = "consultroom.sessions.user_row"


@cache  # built once: every page with a session cookie runs it
def _row_and_user():
    return (
        select(StoredSession, User)
        .outerjoin(User, User.id == StoredSession.user_id)
        .where(StoredSession.id_hash == bindparam("id_hash"))
    )


def _stored_row(request, session_id):
    """The row of the cookie's session id on this site, or None.

    The cookie is host-only, so only a copied cookie arrives on another site;
    there it finds nothing, so it can neither read nor end (log out) the
    session it was copied from."""
    if not (0 < len(session_id) <= 64 and session_id.isascii()):
        return None
    # With its user, in the same statement: a logged-in staff member's page
    # loads them next, and finds them in the database session's identity
    # map, which holds them only while something else does.
    found = request.dbsession.execute(_row_and_user(), {"id_hash": hash_id(session_id)}).first()
    if found is None or found[0].organisation_id != _site_organisation_id(request):
        return None
    row, request.__dict__[_USER_ROW] = found
    return row


def _has_ended(request, row):
    # Also checked against the current setting: lowering an organisation's
    # idle time applies to sessions stored before the change.
    settings = request.registry.settings
    now = utcnow()
    return (
        now >= row.expires_at
        or now - row.last_seen >= idle_timeout(settings, request.organisation)
        or now - row.created_at >= max_age(settings)
    )


def session_factory(request):
    try:
        transaction = request.tm.get()
    except NoTransaction:
        # Outside a transaction (an error page after a failed commit): an
        # empty session that is never stored.
        return Session(request)
    session_id = request.cookies.get(COOKIE)
    if session_id and session_id.startswith(ANONYMOUS):
        anonymous_id, row = _live_anonymous_id(request, session_id), None
    else:
        anonymous_id = None
        row = _stored_row(request, session_id) if session_id else None
    ended = row is not None and _has_ended(request, row)
    session = Session(
        request,
        None if ended else row,
        had_cookie=session_id is not None,
        anonymous_id=anonymous_id,
    )
    if ended:
        session._ended.append(row.id_hash)
    transaction.addBeforeCommitHook(session._save)
    transaction.addAfterCommitHook(session._after_commit)
    request.add_response_callback(session._send_cookie)
    return session
