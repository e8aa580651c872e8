"""The installation's VAPID key pair (RFC 8292), which identifies this
server to the browsers' push services: made on first use, stored
encrypted, the same for every process and after restarts."""

import base64

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from sqlalchemy.exc import IntegrityError

from consultroom.alerts.models import InstallationKey
from consultroom.secretbox import decrypt, encrypt

NAME = "vapid"


# Stored (encrypted) value -> its key pair, in this process: decrypting and
# parsing it took about 0.1 ms, on every showing of the profile page. Keyed
# by the stored value, so a key stored anew is never mistaken for the old.
_PARSED = "consultroom.alerts.vapid_parsed"


def _parsed(request, stored):
    known = request.registry.setdefault(_PARSED, {})
    if stored not in known:
        known.clear()  # one installation key: only the latest is kept
        known[stored] = Vapid02.from_pem(decrypt(request, stored).encode())
    return known[stored]


def vapid(request):
    """The key pair, as pywebpush signs with it."""
    row = request.dbsession.get(InstallationKey, NAME)
    if row is not None:
        return _parsed(request, row.value)
    made = Vapid02()
    made.generate_keys()
    stored = encrypt(request, made.private_pem().decode())
    try:
        # Two processes may make one at once: the first to store it wins.
        with request.dbsession.begin_nested():
            request.dbsession.add(InstallationKey(name=NAME, value=stored))
    except IntegrityError:
        return _parsed(request, request.dbsession.get(InstallationKey, NAME).value)
    return made


def application_server_key(request):
    """The public key as a browser's ``pushManager.subscribe`` wants it:
    the uncompressed point, base64url without padding."""
    point = vapid(request).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()
