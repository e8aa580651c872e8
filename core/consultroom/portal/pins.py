"""The PIN that opens a client's portal, and the portal session it starts.

A PIN is six digits from ``secrets``, e-mailed to the client's address on
record, valid for ``PIN_MINUTES`` (10: ASVS 6.5.5's ceiling for an
out-of-band code; the seed product's 30 minutes is longer than that), used
once, and dead after ``MAX_WRONG_TRIES`` wrong tries. Asking for a PIN is
limited per client and per address, and so are wrong PINs: the per-client
limit is what holds against guesses spread over many addresses.

Entering the right PIN starts a portal session: the client's id in the
browser's server-side session, ended by ``idle_minutes`` without a portal
page, by leaving, or by staff rotating the portal link (the session is only
good for the client's current token)."""

import hashlib
import hmac
import re
import secrets
import time
from datetime import timedelta

from sqlalchemy import delete, select

from consultroom.db import utcnow
from consultroom.portal.models import PortalPin
from consultroom.ratelimit import Attempt, client_address, limits_from_settings

PIN_MINUTES = 10
MAX_WRONG_TRIES = 5
SESSION_KEY = "portal"
_PIN = re.compile(r"[0-9]{6}")


def _limits(request):
    settings = request.registry.settings
    return {
        "request_client": limits_from_settings(settings, "portal_pin_request", 5, 60),
        "request_address": limits_from_settings(settings, "portal_pin_request_address", 20, 60),
        "wrong_client": limits_from_settings(settings, "portal_pin_client", 10, 60),
        "wrong_address": limits_from_settings(settings, "portal_pin_address", 20, 60),
    }


def digest(request, client, pin):
    key = request.registry.settings["session.secret"].encode()
    message = f"portal-pin:{client.organisation_id}:{client.id}:{pin}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def new_pin(request, client):
    """A fresh PIN for ``client``, replacing any earlier one; or, when asking
    is locked out for the client or the address, ``(None, remaining)``.

    Every request counts against the limits (it sends a mail), so the
    attempt is never refunded."""
    limits = _limits(request)
    attempt = Attempt(
        request,
        (limits["request_client"], str(client.id)),
        (limits["request_address"], client_address(request)),
    )
    if attempt.locked:
        return None, attempt.locked
    pin = f"{secrets.randbelow(10**6):06d}"
    db = request.dbsession
    db.execute(delete(PortalPin).where(PortalPin.client_id == client.id))
    db.add(
        PortalPin(
            organisation_id=client.organisation_id,
            client_id=client.id,
            pin_hash=digest(request, client, pin),
            expires_at=utcnow() + timedelta(minutes=PIN_MINUTES),
        )
    )
    db.flush()
    return pin, None


class Locked(Exception):
    def __init__(self, remaining):
        super().__init__(remaining)
        self.remaining = remaining


def normalised(entered):
    """The six digits typed (spaces and dashes allowed), or None."""
    digits = re.sub(r"[\s-]", "", entered or "")
    return digits if _PIN.fullmatch(digits) else None


def check_pin(request, client, pin):
    """Whether ``pin`` (six digits) is the client's live PIN; the PIN is used
    up when it is. Raises ``Locked`` while the client or the address may not
    try, and then the PIN is not even compared."""
    limits = _limits(request)
    attempt = Attempt(
        request,
        (limits["wrong_client"], str(client.id)),
        (limits["wrong_address"], client_address(request)),
    )
    if attempt.locked:
        raise Locked(attempt.locked)
    row = request.dbsession.scalar(
        select(PortalPin).where(PortalPin.client_id == client.id).with_for_update()
    )
    if row is None or row.expires_at <= utcnow() or row.wrong_tries >= MAX_WRONG_TRIES:
        return False
    if not hmac.compare_digest(row.pin_hash, digest(request, client, pin)):
        row.wrong_tries += 1
        return False
    request.dbsession.delete(row)
    attempt.refund()
    return True


def _idle(request):
    return timedelta(minutes=int(request.registry.settings.get("portal.idle_minutes", 15)))


def open_session(request, client):
    """Start the portal session for ``client`` under a new session id (what
    the browser held before the PIN is not trusted after it)."""
    session = request.session
    kept = dict(session)
    session.invalidate()
    session.update(kept)
    session[SESSION_KEY] = {"client": client.id, "seen": time.time()}


def close_session(request):
    request.session.pop(SESSION_KEY, None)


def is_open(request, client):
    """Whether this browser's portal session is ``client``'s and still live;
    a live one counts this request as activity."""
    state = request.session.get(SESSION_KEY)
    if not state or state.get("client") != client.id:
        return False
    now = time.time()
    if now - state.get("seen", 0) > _idle(request).total_seconds():
        close_session(request)
        return False
    request.session[SESSION_KEY] = {"client": client.id, "seen": now}
    return True


def forget_pins(request, client):
    request.dbsession.execute(delete(PortalPin).where(PortalPin.client_id == client.id))
