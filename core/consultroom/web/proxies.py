"""The client's address behind reverse proxies.

WebOb's ``client_addr`` believes the first ``X-Forwarded-For`` entry of any
request, so anyone could pick the address that rate limits count and the
audit trail records. Here the header counts only when the peer is a proxy
listed in ``security.trusted_proxies`` (addresses or networks, e.g.
``127.0.0.1 ::1 10.0.0.0/8``); the client is then the rightmost address that
is not a trusted proxy, since every proxy appends the address it saw and the
entries to its left are the client's own claims. The result replaces
``REMOTE_ADDR`` and the header is dropped, so ``request.client_addr`` is the
client everywhere.
"""

import ipaddress
from functools import lru_cache

from pyramid.tweens import INGRESS

SETTING = "security.trusted_proxies"


@lru_cache(maxsize=8)
def trusted_networks(value):
    return tuple(ipaddress.ip_network(part, strict=False) for part in value.split())


def _address(text):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted(address, networks):
    address = getattr(address, "ipv4_mapped", None) or address
    return any(address in network for network in networks)


def client_address(peer, forwarded, networks):
    """The client's address, from the peer's address and X-Forwarded-For."""
    current = _address(peer or "")
    if current is None:
        return peer
    hops = [hop for hop in forwarded.split(",") if hop.strip()]
    while hops and _is_trusted(current, networks):
        previous = _address(hops.pop())
        if previous is None:  # garbage: the last trusted proxy is all we know
            break
        current = previous
    return str(current)


def proxies_tween_factory(handler, registry):
    settings = registry.settings

    def proxies_tween(request):
        environ = request.environ
        forwarded = environ.pop("HTTP_X_FORWARDED_FOR", "")
        if forwarded:  # else the peer is the client, as the server wrote it
            networks = trusted_networks(settings.get(SETTING, ""))
            peer = environ.get("REMOTE_ADDR")
            environ["REMOTE_ADDR"] = client_address(peer, forwarded, networks)
        return handler(request)

    return proxies_tween


def includeme(config):
    trusted_networks(config.get_settings().get(SETTING, ""))  # a bad value fails at start
    config.add_tween("consultroom.web.proxies.proxies_tween_factory", under=INGRESS)
