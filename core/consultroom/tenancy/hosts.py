"""Which organisation a request is for: the site its (checked, see
:mod:`consultroom.web.sites`) Host names, and the organisation at that
subdomain; the ``site`` route predicate.

Every request of an organisation's site needs its row, so the rows are
kept per process (:mod:`consultroom.db.cache`: emptied when the table
changes here or in another process) and put into the request's session
without a query, once the request has one."""

import json

from sqlalchemy import inspect, select

from consultroom.db import add_when_opened, copies_join_sessions
from consultroom.db.cache import RowCache
from consultroom.db.scope import all_organisations
from consultroom.i18n import regional
from consultroom.tenancy.models import Organisation
from consultroom.web.sites import ORGANISATION, UNKNOWN, subdomain_of

CACHE = "consultroom.organisation_cache"
# Other features' sites on a subdomain no organisation has (a published web
# page set): callables ``(request, subdomain) -> (site, organisation) | None``.
SUBDOMAIN_SITES = "consultroom.subdomain_sites"


def add_subdomain_site(config, resolver):
    """Let a feature above tenancy claim subdomains that are no
    organisation's, as a site of its own kind for one organisation."""
    resolvers = config.registry.setdefault(SUBDOMAIN_SITES, [])
    resolvers.append(resolver)


def _site(request):
    site, sub = subdomain_of(request.host, request.registry.settings["consultroom.base_domain"])
    if site == ORGANISATION:
        org = organisation_at(request, sub)
        if org is None:
            return _other_site(request, sub)
        return site, org
    return site, None


def _other_site(request, subdomain):
    for resolver in request.registry.get(SUBDOMAIN_SITES, ()):
        found = resolver(request, subdomain)
        if found is not None:
            return found
    return UNKNOWN, None


def organisation_at(request, subdomain):
    """The organisation at ``subdomain`` in the request's session, or None."""
    cache = request.registry[CACHE]
    values = cache.get(subdomain)
    if values is None:
        # Finding the site's organisation is what gives the session its scope.
        with all_organisations(request.dbsession):
            org = request.dbsession.scalar(
                select(Organisation).where(Organisation.subdomain == subdomain)
            )
        if org is not None:
            cache.put(subdomain, _loaded_values(org))
        return org
    return add_when_opened(request, _copied(values))


def _loaded_values(org):
    """What ``_copied`` makes a request's copy of ``org`` from: its loaded
    columns' values; those a request may change in place (the JSON
    columns: the settings) as JSON text."""
    state = inspect(org)
    values = {
        attr.key: getattr(org, attr.key)
        for attr in state.mapper.column_attrs
        if attr.key not in state.unloaded
    }
    in_place = {k: v for k, v in values.items() if isinstance(v, (dict, list))}
    fixed = {k: v for k, v in values.items() if k not in in_place}  # text, numbers, times
    return fixed, json.dumps(in_place)


# A request's copy joins its database session only when it has one (once,
# for the class: the listeners are the model's, whatever the application).
copies_join_sessions(Organisation)


def _copied(values):
    # Made as the ORM makes a loaded row's object (no constructor: setting
    # each attribute one by one through its instrumentation cost more than
    # the rest). Each request decodes its own copy of the JSON values, in
    # about half the time copy.deepcopy took (an organisation with 30
    # settings: 12 against 21 us, about 4 % of a login page).
    fixed, in_place = values
    org = Organisation.__mapper__.class_manager.new_instance()
    org.__dict__.update(fixed)
    org.__dict__.update(json.loads(in_place))
    return org


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


def formatting_locale(request):
    """The locale dates and times are written in: the page's language as
    written in the organisation's region (``i18n.regional``)."""
    org = request.organisation
    return regional(request.locale_name, org.timezone) if org else request.locale_name


def includeme(config):
    config.registry[CACHE] = RowCache.configured(
        config.get_settings(), {Organisation.__tablename__}
    )
    config.add_request_method(_site, "site_and_organisation", reify=True)
    config.add_request_method(site, "site", reify=True)
    config.add_request_method(organisation, "organisation", reify=True)
    # Not reified: a client's page switches language (i18n.speak) after
    # the first render-time look may have happened.
    config.add_request_method(formatting_locale, "formatting_locale", property=True)
    config.add_route_predicate("site", SitePredicate)
