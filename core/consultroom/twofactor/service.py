"""Two-factor authentication: enrolment, checking codes, recovery codes, and
switching it off.

A TOTP code is accepted for the current 30-second time step and one step
either side (clock drift), and only once: the step of the last accepted code
is stored and a code of that step or an earlier one is refused. Moving the
stored step is one conditional UPDATE, so of two requests racing with the
same code only one wins, on every database.

Recovery codes have 80 random bits each. They are stored as SHA-256 of the
user id and the code: with that much entropy a fast hash cannot be reversed
by trying codes, and a slow one (argon2) would only make every wrong guess
cost up to ten expensive verifications.
"""

import base64
import hashlib
import hmac
import re
import secrets
import time

import pyotp
from sqlalchemy import delete, func, select, update
from zope.sqlalchemy import mark_changed

from consultroom.audit import record
from consultroom.db import utcnow
from consultroom.secretbox import decrypt, encrypt
from consultroom.twofactor.models import RecoveryCode, TwoFactor

STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
RECOVERY_CODE_BYTES = 10  # 80 bits, 16 base32 characters
TOTP_CODE = re.compile(r"[0-9]{6}")


def current_step():
    return int(time.time()) // STEP_SECONDS


def two_factor_of(dbsession, user):
    return dbsession.get(TwoFactor, user.id)


def is_enabled(dbsession, user):
    row = two_factor_of(dbsession, user)
    return row is not None and row.confirmed


# -- enrolment ---------------------------------------------------------------


def enrolment(request, user):
    """The user's unconfirmed authenticator, made with a new secret if needed;
    None when two-factor authentication is already on."""
    row = two_factor_of(request.dbsession, user)
    if row is None:
        row = TwoFactor(user_id=user.id, secret_encrypted=encrypt(request, pyotp.random_base32()))
        request.dbsession.add(row)
        request.dbsession.flush()
    return None if row.confirmed else row


def secret_of(request, row):
    return decrypt(request, row.secret_encrypted)


def provisioning_uri(request, row, user):
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    organisation = request.organisation
    # A colon separates issuer and account in the label, so none in the issuer.
    issuer = (organisation.name if organisation else "Consultroom").replace(":", " ")
    return pyotp.TOTP(secret_of(request, row)).provisioning_uri(name=user.email, issuer_name=issuer)


def confirm(request, row, user, code):
    """Turn two-factor authentication on if ``code`` is right; the new
    recovery codes, or None."""
    if not accept_totp(request, row, code):
        return None
    row.confirmed_at = utcnow()
    record(request, "two_factor.enabled", "user", user.id)
    return new_recovery_codes(request, user)


def format_secret(secret):
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# -- checking codes -----------------------------------------------------------


def _matching_step(secret, code):
    totp = pyotp.TOTP(secret)
    now = current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def accept_totp(request, row, code):
    """Whether ``code`` is a valid, not yet used TOTP code for ``row``."""
    code = re.sub(r"\s", "", code or "")
    if not TOTP_CODE.fullmatch(code):
        return False
    step = _matching_step(secret_of(request, row), code)
    if step is None:
        return False
    moved = request.dbsession.execute(
        update(TwoFactor)
        .where(TwoFactor.user_id == row.user_id, TwoFactor.last_step < step)
        .values(last_step=step)
    )
    mark_changed(request.dbsession)
    return moved.rowcount == 1


def check_second_factor(request, user, code):
    """``"totp"`` or ``"recovery"`` when ``code`` is one of the user's valid
    codes (using it up), else None."""
    row = two_factor_of(request.dbsession, user)
    if row is None or not row.confirmed:
        return None
    if accept_totp(request, row, code):
        return "totp"
    if use_recovery_code(request, user, code):
        # Not logged in yet: the request does not know who acts.
        record(request, "two_factor.recovery_code_used", "user", user.id, actor=user)
        return "recovery"
    return None


# -- recovery codes -----------------------------------------------------------


def _normalise(code):
    return re.sub(r"[^a-z0-9]", "", (code or "").lower())


def _hash_recovery_code(user_id, code):
    return hashlib.sha256(f"{user_id}:{_normalise(code)}".encode()).hexdigest()


def _make_recovery_code():
    text = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().lower()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def new_recovery_codes(request, user):
    """Replace the user's recovery codes; the new ones, to be shown once."""
    db = request.dbsession
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_make_recovery_code() for _ in range(RECOVERY_CODES)]
    db.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hash_recovery_code(user.id, c)) for c in codes
    )
    mark_changed(db)
    return codes


def use_recovery_code(request, user, code):
    if len(_normalise(code)) != RECOVERY_CODE_BYTES * 8 // 5:
        return False
    used = request.dbsession.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery_code(user.id, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    mark_changed(request.dbsession)
    return used.rowcount == 1


def recovery_codes_left(dbsession, user):
    return dbsession.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


# -- switching off ------------------------------------------------------------


def disable(request, user, action="two_factor.disabled"):
    """Remove the user's authenticator and recovery codes, and record it."""
    db = request.dbsession
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    mark_changed(db)
    record(request, action, "user", user.id)
