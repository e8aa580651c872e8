"""Sites and their public addresses: the hosting provider's console on the
bare base domain, each organisation on one label under it.

Absolute URLs (mailed links, redirects) come from the configuration
(``consultroom.base_domain`` and the scheme and port of
``consultroom.public_url``), never from the request: a request whose Host
is not exactly the console host or one label under it is refused with 400
before anything reads it, and the Host and scheme of an accepted request are
replaced by the configured ones, so that ``route_url`` and
``application_url`` build public URLs too. Which organisation a subdomain
is, is for ``consultroom.tenancy`` to say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.request import Request, apply_request_extensions
from pyramid.tweens import INGRESS

from consultroom.i18n import _

if TYPE_CHECKING:
    # Pyramid has no type information: these are Any to mypy, named for the reader.
    from pyramid.config import Configurator
    from pyramid.registry import Registry
    from pyramid.response import Response

    from consultroom.db.scope import OrganisationRow

# The kinds of site a Host can name.
Site = Literal["console", "organisation", "unknown"]
CONSOLE: Final = "console"
ORGANISATION: Final = "organisation"
UNKNOWN: Final = "unknown"
# The ``site`` route predicate of pages both kinds of site have (logging in
# and out, the session's own requests).
BOTH_SITES = (ORGANISATION, CONSOLE)


# A DNS name (with an optional trailing dot) and an optional port.
_HOST = re.compile(r"(?P<name>[a-z0-9-]+(?:\.[a-z0-9-]+)*)\.?(?::[0-9]{1,5})?", re.IGNORECASE)


def subdomain_of(host: str, base_domain: str) -> tuple[Site, str | None]:
    """``(site, subdomain)`` for a Host header value; ``UNKNOWN`` for
    anything but the base domain or one label under it."""
    match = _HOST.fullmatch(host)
    if match is None:
        return UNKNOWN, None
    name = match["name"].lower()
    if name == base_domain:
        return CONSOLE, None
    sub, _dot, rest = name.partition(".")
    if rest == base_domain:
        return ORGANISATION, sub
    return UNKNOWN, None


def org_url(request: Request, organisation: OrganisationRow, path: str = "/") -> str:
    """An absolute URL on an organisation's own subdomain."""
    return public_base(request.registry.settings, organisation.subdomain) + path


def _public_netloc(settings: Mapping[str, str], subdomain: str | None = None) -> tuple[str, str]:
    parts = urlsplit(settings.get("consultroom.public_url", "http://localhost:6543"))
    host = settings["consultroom.base_domain"]
    if subdomain:
        host = f"{subdomain}.{host}"
    return parts.scheme, host + (f":{parts.port}" if parts.port else "")


def public_base(settings: Mapping[str, str], subdomain: str | None = None) -> str:
    """The console's (or a subdomain's) public base URL."""
    scheme, netloc = _public_netloc(settings, subdomain)
    return f"{scheme}://{netloc}"


def site_request(registry: Registry, subdomain: str | None = None) -> Request:
    """A request for the console or the site at ``subdomain`` where no HTTP
    request is being served: the command line, the worker, mail delivery."""
    request = Request.blank("/", base_url=public_base(registry.settings, subdomain))
    request.registry = registry
    apply_request_extensions(request)
    return request


def host_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Refuse a foreign or malformed Host (400) and put the configured Host
    and scheme in its place."""
    settings = registry.settings

    def host_tween(request: Request) -> Response:
        site, sub = subdomain_of(
            request.environ.get("HTTP_HOST", ""), settings["consultroom.base_domain"]
        )
        # The error page is rendered as the console's: its links must not
        # repeat the foreign Host either.
        scheme, netloc = _public_netloc(settings, sub)
        request.environ.update({"HTTP_HOST": netloc, "wsgi.url_scheme": scheme})
        if site == UNKNOWN:
            refusal = HTTPBadRequest(
                _("There is no organisation at this address. Check the link you were given.")
            )
            return request.invoke_exception_view((HTTPBadRequest, refusal, None))
        return handler(request)

    return host_tween


def includeme(config: Configurator) -> None:
    config.get_settings().setdefault("consultroom.base_domain", "localhost")
    config.add_tween("consultroom.web.sites.host_tween_factory", under=INGRESS)
