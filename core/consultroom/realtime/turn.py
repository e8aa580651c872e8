"""ICE servers for a peer: STUN, and TURN with short-lived credentials.

coturn's ``use-auth-secret`` scheme (the TURN REST API): the username is
``<expiry unix time>:<peer id>`` and the password is
base64(HMAC-SHA1(shared secret, username)). coturn recomputes it with the same
secret, so no per-user accounts exist anywhere and a leaked credential dies
at its expiry.

Settings: ``turn.urls`` and ``stun.urls`` (space-separated), ``turn.secret``,
``turn.ttl_seconds`` (default 3600). An organisation may override the URLs
and secret with its advanced settings ``stun_urls``, ``turn_urls`` and
``turn_secret``. ``turn.relay_only`` (default false) makes every browser send
its media only through TURN (``iceTransportPolicy: "relay"``): peers never
learn each other's addresses, and the browser tests prove the relay with it.
It is the installation's setting only; nothing a browser sends changes it.
"""

import base64
import hashlib
import hmac
import time

from pyramid.settings import asbool

DEFAULT_TTL = 3600


def turn_credential(secret, peer, ttl, now=None):
    """``(username, credential)`` valid for ``ttl`` seconds from ``now``."""
    expiry = int(now if now is not None else time.time()) + ttl
    username = f"{expiry}:{peer}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def _urls(value):
    return (value or "").split()


def ice_servers(settings, options, peer):
    """The RTCPeerConnection ``iceServers`` for ``peer``: the organisation's
    servers (``options``: its advanced settings) or else the installation's."""
    stun = _urls(options.get("stun_urls")) or _urls(settings.get("stun.urls"))
    turn = _urls(options.get("turn_urls")) or _urls(settings.get("turn.urls"))
    secret = options.get("turn_secret") or settings.get("turn.secret", "")
    servers = [{"urls": stun}] if stun else []
    if turn and secret:
        ttl = int(settings.get("turn.ttl_seconds", DEFAULT_TTL))
        username, credential = turn_credential(secret, peer, ttl)
        servers.append({"urls": turn, "username": username, "credential": credential})
    return servers


def ice_transport_policy(settings):
    """The RTCPeerConnection ``iceTransportPolicy``: "relay" under
    ``turn.relay_only``, else "all"."""
    return "relay" if asbool(settings.get("turn.relay_only", False)) else "all"
