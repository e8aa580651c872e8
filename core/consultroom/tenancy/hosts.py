"""Which organisation a request is for: the site its (checked, see
:mod:`consultroom.web.sites`) Host names, and the organisation at that
subdomain; the ``site`` route predicate."""

from sqlalchemy import select

from consultroom.tenancy.models import Organisation
from consultroom.web.sites import ORGANISATION, UNKNOWN, subdomain_of


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


def includeme(config):
    config.add_request_method(_site, "site_and_organisation", reify=True)
    config.add_request_method(site, "site", reify=True)
    config.add_request_method(organisation, "organisation", reify=True)
    config.add_route_predicate("site", SitePredicate)
