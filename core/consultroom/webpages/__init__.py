"""Web pages: page sets an organisation publishes on their own subdomain or
path (a main page and up to three follow-up pages, showing the booking or a
walk-in widget), their editor, media library, preview and public pages."""

from consultroom.tenancy.hosts import add_subdomain_site
from consultroom.tenancy.service import claim_subdomains
from consultroom.webpages.service import framing_origins, resolve_subdomain, slug_in_use
from consultroom.widgets.embed import add_framing_origins


def includeme(config):
    config.include(".views")
    config.include(".library")
    config.include(".public")
    add_subdomain_site(config, resolve_subdomain)
    add_framing_origins(config, framing_origins)
    claim_subdomains(slug_in_use)
