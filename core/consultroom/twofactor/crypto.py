"""Encryption at rest for two-factor secrets.

``security.encryption_key`` holds one or more Fernet keys separated by
whitespace: the first encrypts, every one of them decrypts, so a key can be
rotated by putting a new one in front. Without the setting a key is derived
from ``session.secret`` with HKDF, so that a database dump alone does not
reveal the secrets; a separate key is still better (changing the session
secret would then not make every secret unreadable).
"""
import base64

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pyramid.exceptions import ConfigurationError

SETTING = "security.encryption_key"
# Binds the derived key to this use: the same session secret signs cookies.
HKDF_INFO = b"consultroom/security.encryption_key"


def _derived_key(session_secret):
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        session_secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


def box_from_settings(settings):
    """The MultiFernet that encrypts and decrypts secrets for these settings."""
    keys = settings.get(SETTING, "").split() or [_derived_key(settings["session.secret"])]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ConfigurationError(
            f"{SETTING}: each key must be 32 url-safe base64-encoded bytes"
            " (make one with: python -c 'from cryptography.fernet import Fernet;"
            " print(Fernet.generate_key().decode())')"
        ) from exc


def encrypt(request, text):
    return request.registry["secret_box"].encrypt(text.encode()).decode()


def decrypt(request, token):
    return request.registry["secret_box"].decrypt(token.encode()).decode()


def includeme(config):
    config.registry["secret_box"] = box_from_settings(config.get_settings())
