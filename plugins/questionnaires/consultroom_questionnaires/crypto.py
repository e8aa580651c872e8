"""Envelope encryption of the answers.

Each client has a *data key* (256 random bits) that encrypts their answers
and images with AES-GCM. The data key is stored only wrapped (encrypted) by
the *key encryption key* from the settings, ``consultroom_questionnaires.kek``:
one or more 32-byte keys in url-safe base64, separated by spaces; the first
wraps new data keys, every one unwraps (put a new key in front to rotate: a
data key wrapped by an older one is rewrapped when next used). Without the
setting a key is derived from ``session.secret`` with HKDF, so that a
database dump alone reveals nothing; set it in production, away from the
database and its backups.

Destroying a client's data key (erasing the client) makes every answer of
theirs unreadable, in backups too; anonymising an appointment re-keys the
client: what remains is encrypted again under a fresh key and the old key
is gone, so the anonymised answers are unreadable in backups as well.
Each ciphertext is bound (associated data) to the row it belongs to, so
that one cannot be moved to another client or response.
"""

import base64
import binascii
import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from consultroom_questionnaires.models import ClientKey

SETTING = "consultroom_questionnaires.kek"
HKDF_INFO = b"consultroom/consultroom_questionnaires.kek"
NONCE = 12


class Undecryptable(Exception):  # noqa: N818 (what it says of the data)
    """The data key or a ciphertext could not be decrypted (its key is gone
    or it was altered)."""


@lru_cache(maxsize=8)
def _keys(configured, session_secret):
    """``[(kek_id, AESGCM)]``, the wrapping key first."""
    if configured.strip():
        raw_keys = []
        for value in configured.split():
            try:
                raw = base64.urlsafe_b64decode(value.encode("ascii"))
            except (binascii.Error, UnicodeEncodeError):
                raw = b""
            if len(raw) != 32:
                raise ConfigurationError(
                    f"{SETTING}: each key must be 32 url-safe base64-encoded bytes (make one"
                    " with: python -c 'import base64, os;"
                    " print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
                )
            raw_keys.append(raw)
    else:
        raw_keys = [
            HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
                session_secret.encode()
            )
        ]
    return tuple(
        (hashlib.sha256(b"kek-id" + raw).hexdigest()[:16], AESGCM(raw)) for raw in raw_keys
    )


def key_encryption_keys(settings):
    """The configured key encryption keys (the wrapping one first); raises
    ConfigurationError for a malformed setting."""
    return _keys(settings.get(SETTING, ""), settings.get("session.secret", ""))


def seal(key, plaintext, context):
    """``plaintext`` encrypted and authenticated with AES-GCM under ``key``
    (an AESGCM), bound to ``context``."""
    nonce = os.urandom(NONCE)
    return nonce + key.encrypt(nonce, plaintext, context.encode())


def unseal(key, sealed, context):
    try:
        return key.decrypt(sealed[:NONCE], sealed[NONCE:], context.encode())
    except (InvalidTag, ValueError):
        raise Undecryptable() from None


def _wrap_context(organisation_id, client_id):
    return f"questionnaires/client/{organisation_id}/{client_id}"


def _key_row(request, client_id):
    return request.dbsession.scalar(
        select(ClientKey).where(
            ClientKey.organisation_id == request.organisation.id, ClientKey.client_id == client_id
        )
    )


def _new_key_row(request, client_id):
    kek_id, kek = key_encryption_keys(request.registry.settings)[0]
    raw = AESGCM.generate_key(bit_length=256)
    row = ClientKey(
        organisation_id=request.organisation.id,
        client_id=client_id,
        kek_id=kek_id,
        wrapped=seal(kek, raw, _wrap_context(request.organisation.id, client_id)),
    )
    return row, raw


def _known_keys(request):
    """The data keys this request has read, by client id: an export reads
    its answers and each image with the same one."""
    return request.__dict__.setdefault("questionnaires_data_keys", {})


def data_key(request, client_id, create=False):
    """The client's data key (an AESGCM), made now when ``create`` and the
    client has none; None when they have none (or it was destroyed)."""
    known = _known_keys(request)
    if client_id not in known:
        key = _stored_key(request, client_id, create)
        if key is None:
            return None
        known[client_id] = key
    return known[client_id]


def _stored_key(request, client_id, create):
    row = _key_row(request, client_id)
    if row is None:
        if not create:
            return None
        row, raw = _new_key_row(request, client_id)
        request.dbsession.add(row)
        request.dbsession.flush()
        return AESGCM(raw)
    keks = dict(key_encryption_keys(request.registry.settings))
    if row.kek_id not in keks:
        raise Undecryptable()
    context = _wrap_context(row.organisation_id, client_id)
    raw = unseal(keks[row.kek_id], row.wrapped, context)
    current_id, current = key_encryption_keys(request.registry.settings)[0]
    if row.kek_id != current_id:  # rotated: wrap it with the new key
        row.kek_id, row.wrapped = current_id, seal(current, raw, context)
    return AESGCM(raw)


def destroy_key(request, client_id):
    """Forget the client's data key: their answers become unreadable."""
    _known_keys(request).pop(client_id, None)
    row = _key_row(request, client_id)
    if row is not None:
        request.dbsession.delete(row)
        request.dbsession.flush()


def replace_key(request, client_id):
    """``(old, new)`` data keys of a client, the new one stored in place of
    the old (re-encrypt what stays with ``new``); ``(None, None)`` when the
    client has no key."""
    old = data_key(request, client_id)
    if old is None:
        return None, None
    destroy_key(request, client_id)
    return old, data_key(request, client_id, create=True)
