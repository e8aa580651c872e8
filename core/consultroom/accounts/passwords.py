"""Password hashing with argon2, as a service (``IPasswordHasher``).

Production uses argon2-cffi's recommended parameters (RFC 9106, low
memory: about a quarter of a second per hash here). ``passwords.argon2_profile``
names another of ``argon2.profiles``; a test suite sets ``CHEAPEST`` so
that thousands of logins cost nothing. A hash carries its parameters, so
every hash verifies whatever the profile; a successful login rehashes one
made with other parameters.

Views use ``request.passwords``; code without a request
``password_hasher(registry)``; a test or a plugin swaps the implementation by
registering another ``IPasswordHasher`` utility.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from argon2 import PasswordHasher, extract_parameters, profiles
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from zope.interface import Interface, implementer

if TYPE_CHECKING:
    from pyramid.config import Configurator
    from pyramid.registry import Registry
    from pyramid.request import Request

    from consultroom.accounts.models import User

MIN_LENGTH = 10
SETTING = "passwords.argon2_profile"
DEFAULT_PROFILE = "RFC_9106_LOW_MEMORY"
PROFILES = ("RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY", "CHEAPEST")
# What a login for an account that does not exist verifies against, so that
# a wrong e-mail address takes as long as a wrong password: a hash of
# "not a real password" with each profile's parameters (a hash carries them,
# and they set its cost). Made once, here, rather than when each process
# starts: that cost one full hash per process (each command, worker and test
# app; 0.1 s of a 0.31 s configuration with the default profile), and 2 GiB
# of memory with the high-memory one. A process whose argon2-cffi changed a profile's
# parameters makes its own (``Argon2Hasher``).
DUMMY_HASHES = {
    "RFC_9106_LOW_MEMORY": "$argon2id$v=19$m=65536,t=3,p=4$JWRJWvSz1nTtkzBLuB6/aA"
    "$+2tdPHRFz5PERDQhaKOeWoCQppH9E805VJnTCVl/YrE",
    "RFC_9106_HIGH_MEMORY": "$argon2id$v=19$m=2097152,t=1,p=4$/EyOZ1p353cYZjc+EcJWVQ"
    "$AbCKZLKNWzktiitCbROpkqaEfk84Vsfi4leK+8Ym2G4",
    "CHEAPEST": "$argon2id$v=19$m=8,t=1,p=1$QtqPQRcYhBo$HEOwYQ",
}


class IPasswordHasher(Interface):
    def hash(password: str) -> str:
        """The hash to store for ``password``."""

    def verify(user: User | None, password: str) -> bool:
        """True when ``password`` is ``user``'s (``user`` may be None: the
        answer is False, in the time a wrong password takes); rehashes the
        stored hash in place when the parameters changed."""


@implementer(IPasswordHasher)
class Argon2Hasher:
    def __init__(self, profile: str = DEFAULT_PROFILE) -> None:
        if profile not in PROFILES:
            raise ValueError(f"{SETTING}: one of {', '.join(PROFILES)}, not {profile!r}")
        self.parameters = getattr(profiles, profile)
        self._hasher = PasswordHasher.from_parameters(self.parameters)
        self._dummy = DUMMY_HASHES[profile]
        if extract_parameters(self._dummy) != self.parameters:
            self._dummy = self._hasher.hash("not a real password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, user: User | None, password: str) -> bool:
        stored = user.password_hash if user is not None and user.password_hash else self._dummy
        try:
            self._hasher.verify(stored, password)
        except (VerifyMismatchError, InvalidHashError):
            return False
        if user is None or not user.password_hash:
            return False
        if self._hasher.check_needs_rehash(stored):
            user.password_hash = self._hasher.hash(password)
        return True


def password_hasher(registry: Registry) -> IPasswordHasher:
    hasher: IPasswordHasher = registry.getUtility(IPasswordHasher)
    return hasher


def _request_hasher(request: Request) -> IPasswordHasher:
    return password_hasher(request.registry)


def includeme(config: Configurator) -> None:
    hasher = Argon2Hasher(config.get_settings().get(SETTING, DEFAULT_PROFILE))
    config.registry.registerUtility(hasher, IPasswordHasher)
    config.add_request_method(_request_hasher, "passwords", reify=True)
