"""Encryption at rest for secrets: two-factor secrets, chat messages and
captions, payment accounts, single sign-on client secrets, an
organisation's secret settings (``consultroom.tenancy.options.seal``).

``security.encryption_key`` holds one or more Fernet keys separated by
whitespace: the first encrypts, every one of them decrypts, so a key can be
rotated by putting a new one in front. Without the setting a key is derived
from ``session.secret`` with HKDF, so that a database dump alone does not
reveal the secrets; a separate key is still better (changing the session
secret would then not make every secret unreadable).

The box is a service (``ISecretBox``): code finds it with
``secret_box(registry)``; a test or a plugin swaps it (a key held elsewhere)
by registering another ``ISecretBox`` utility.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pyramid.exceptions import ConfigurationError
from zope.interface import Interface, implementer

if TYPE_CHECKING:
    from pyramid.config import Configurator
    from pyramid.registry import Registry
    from pyramid.request import Request

SETTING = "security.encryption_key"
# Binds the derived key to this use: the same session secret signs cookies.
HKDF_INFO = b"consultroom/security.encryption_key"


class ISecretBox(Interface):
    def encrypt(data: bytes) -> bytes:
        """``data`` (bytes) encrypted and authenticated: the token (bytes)
        to store."""

    def decrypt(token: bytes) -> bytes:
        """The bytes that ``encrypt`` made ``token`` from; raises
        ``cryptography.fernet.InvalidToken`` for a token that none of the
        keys made or that was altered."""


@implementer(ISecretBox)
class SecretBox(MultiFernet):
    """Fernet with key rotation: the first key encrypts, every key decrypts."""


def _derived_key(session_secret: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        session_secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


def box_from_settings(settings: Mapping[str, str]) -> SecretBox:
    """The box that encrypts and decrypts secrets for these settings."""
    keys: Sequence[str | bytes] = settings.get(SETTING, "").split() or [
        _derived_key(settings["session.secret"])
    ]
    try:
        return SecretBox([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ConfigurationError(
            f"{SETTING}: each key must be 32 url-safe base64-encoded bytes"
            " (make one with: python -c 'from cryptography.fernet import Fernet;"
            " print(Fernet.generate_key().decode())')"
        ) from exc


def secret_box(registry: Registry) -> ISecretBox:
    box: ISecretBox = registry.getUtility(ISecretBox)
    return box


def encrypt(request: Request, text: str) -> str:
    return secret_box(request.registry).encrypt(text.encode()).decode()


def decrypt(request: Request, token: str) -> str:
    return secret_box(request.registry).decrypt(token.encode()).decode()


def includeme(config: Configurator) -> None:
    config.registry.registerUtility(box_from_settings(config.get_settings()), ISecretBox)
