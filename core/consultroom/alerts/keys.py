"""The installation's VAPID key pair (RFC 8292), which identifies this
server to the browsers' push services: made on first use, stored
encrypted, the same for every process and after restarts."""

import base64

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from sqlalchemy.exc import IntegrityError

from consultroom.alerts.models import InstallationKey
from consultroom.twofactor.crypto import decrypt, encrypt

NAME = "vapid"


def _stored(request):
    row = request.dbsession.get(InstallationKey, NAME)
    if row is not None:
        return decrypt(request, row.value)
    vapid = Vapid02()
    vapid.generate_keys()
    pem = vapid.private_pem().decode()
    try:
        # Two processes may make one at once: the first to store it wins.
        with request.dbsession.begin_nested():
            request.dbsession.add(InstallationKey(name=NAME, value=encrypt(request, pem)))
    except IntegrityError:
        return decrypt(request, request.dbsession.get(InstallationKey, NAME).value)
    return pem


def vapid(request):
    """The key pair, as pywebpush signs with it."""
    return Vapid02.from_pem(_stored(request).encode())


def application_server_key(request):
    """The public key as a browser's ``pushManager.subscribe`` wants it:
    the uncompressed point, base64url without padding."""
    point = vapid(request).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()
