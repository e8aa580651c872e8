"""Argon2 password hashing (argon2-cffi's recommended parameters)."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that a wrong e-mail
# address takes as long as a wrong password.
_DUMMY = _hasher.hash("not a real password")
MIN_LENGTH = 10


def hash_password(password):
    return _hasher.hash(password)


def verify_password(user, password):
    """True when ``password`` is right; rehashes in place when parameters changed."""
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, InvalidHashError):
        return False
    if user is None or not user.password_hash:
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return True
