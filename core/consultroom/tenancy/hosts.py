"""Which site a request is for, from its Host: an organisation's subdomain
under the base domain, the hosting provider's console on the bare base
domain, or nothing we know."""
from urllib.parse import urlsplit

from sqlalchemy import select

from consultroom.tenancy.models import Organisation

CONSOLE = "console"
ORGANISATION = "organisation"
UNKNOWN = "unknown"


def subdomain_of(host, base_domain):
    """``(site, subdomain)`` for a Host header value."""
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    host = host.lower().rstrip(".")
    if host == base_domain:
        return CONSOLE, None
    suffix = "." + base_domain
    if host.endswith(suffix):
        sub = host[: -len(suffix)]
        if sub and "." not in sub:
            return ORGANISATION, sub
    return UNKNOWN, None


def _site(request):
    site, sub = subdomain_of(request.host, request.registry.settings["consultroom.base_domain"])
    if site == ORGANISATION:
        org = request.dbsession.scalar(select(Organisation).where(Organisation.subdomain == sub))
        if org is None:
            return UNKNOWN, None
        return site, org
    return site, None


def site(request):
    return request.site_and_organisation[0]


def organisation(request):
    return request.site_and_organisation[1]


class SitePredicate:
    """Route predicate ``site="organisation"``, ``site="console"`` or a tuple
    of both."""

    def __init__(self, value, config):
        self.values = (value,) if isinstance(value, str) else tuple(value)

    def text(self):
        return f"site in {self.values}"

    phash = text

    def __call__(self, info, request):
        return request.site in self.values


def org_url(request, organisation, path="/"):
    """An absolute URL on an organisation's own subdomain."""
    settings = request.registry.settings
    port = request.host_port
    default_port = {"http": "80", "https": "443"}[request.scheme]
    netloc = f"{organisation.subdomain}.{settings['consultroom.base_domain']}"
    if port != default_port:
        netloc += f":{port}"
    return f"{request.scheme}://{netloc}{path}"


def public_base(settings, subdomain=None):
    """The console's (or a subdomain's) base URL where there is no request
    to take it from: the CLI and the worker."""
    parts = urlsplit(settings.get("consultroom.public_url", "http://localhost:6543"))
    host = settings["consultroom.base_domain"]
    if subdomain:
        host = f"{subdomain}.{host}"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def includeme(config):
    config.add_request_method(_site, "site_and_organisation", reify=True)
    config.add_request_method(site, "site", reify=True)
    config.add_request_method(organisation, "organisation", reify=True)
    config.add_route_predicate("site", SitePredicate)
