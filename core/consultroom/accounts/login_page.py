"""The anonymous login page, kept rendered per process.

The login page is the page every staff member opens first, and the one
that anybody (a crawler, a password guesser) can ask for without limit, so
rendering its templates for each request (Jinja2, WTForms, translations)
cost most of its answer. Its HTML is kept per organisation, language and
address prefix, rendered once, with holes for what differs per request:

* the CSRF token (the visitor's own, ``csrf_token()``);
* the CSP nonce (``request.csp_nonce``: the page's inline style);
* the plugins' slots (``slot("login", ...)`` and the layout's): a slot is
  plugin code that may show anything, a token of its own or what the
  organisation configured, so each slot is called for each request, as in
  a full render.

A kept page is used only while the organisation's values are those it was
rendered with (a changed name, colour, logo or theme shows at once), and
the kept pages are dropped with the organisation and plugin caches
(:mod:`consultroom.db.cache`: a change here or in another process) and
after ``cache.seconds``. A request that shows more than the bare page
(a flash message, an address to go on to, a posted form and its errors)
is rendered in full.
"""

import copy
import re
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any

from markupsafe import Markup, escape
from pyramid.csrf import get_csrf_token
from pyramid.renderers import render
from pyramid.response import Response
from sqlalchemy import inspect

from consultroom.db.cache import RowCache
from consultroom.plugins.models import PluginEnablement
from consultroom.tenancy.models import Organisation
from consultroom.web import slot

CACHE = "consultroom.login_page_cache"
TEMPLATE = "login.html"
# Render-time changes to the response's policy (consultroom.web.headers):
# a page that makes them is not kept, as the kept copy would skip them.
_POLICY_CHANGES = ("csp_allowed", "csp_only", "permissions_delegated")


@dataclass(frozen=True)
class Hole:
    """What a kept page needs filled in per request: ``kind`` is "csrf",
    "nonce" or "slot" (then ``name`` and ``context`` are the slot's)."""

    kind: str
    name: str = ""
    context: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class KeptPage:
    organisation: dict[str, Any] | None  # the values it was rendered with
    parts: tuple[str | Hole, ...]


def applies(request):
    """Whether ``request`` gets the bare page: a GET without parameters,
    nobody logged in, no flash message waiting."""
    return (
        request.method == "GET"
        and not request.GET
        and request.identity is None
        and not request.session.peek_flash()
    )


def response(request, values):
    """The login page for ``request`` (one that ``applies``); ``values()``
    gives the template's values, for when the page must be rendered."""
    cache = request.registry[CACHE]
    key = (_organisation_id(request), request.locale_name, request.script_name)
    organisation = _organisation_values(request)
    page = cache.get(key)
    if page is None or page.organisation != organisation:
        page = _render(request, values(), organisation)
        if page is None:  # the page changed the response's policy: not kept
            return None
        cache.put(key, page)
    body = "".join(part if isinstance(part, str) else _fill(request, part) for part in page.parts)
    return Response(body, content_type="text/html", charset="UTF-8")


def _organisation_id(request):
    return request.organisation.id if request.organisation is not None else None


def _organisation_values(request):
    """The organisation's loaded column values, as the page reads them."""
    org = request.organisation
    if org is None:
        return None
    loaded = vars(org)  # what the ORM holds of the row: no query
    return {key: loaded.get(key) for key in _columns()}


@cache
def _columns():
    return tuple(attr.key for attr in inspect(Organisation).column_attrs)


def _render(request, values, organisation):
    """The page rendered with markers for the holes, cut at the markers."""
    mark = secrets.token_hex(8)
    holes = {}

    def hole(h):
        token = f"\x00{mark}:{len(holes)}\x00"
        holes[token] = h
        return Markup(token)  # nosec B704: our own marker, replaced below

    def kept_slot(name, **context):
        return hole(Hole("slot", name, tuple(sorted(context.items()))))

    before = {key: request.__dict__.get(key) for key in _POLICY_CHANGES}
    html = render(
        TEMPLATE,
        {**values, "csrf_token": lambda: hole(Hole("csrf")), "slot": kept_slot},
        request=request,
    )
    if any(request.__dict__.get(key) != old for key, old in before.items()):
        return None
    nonce = request.__dict__.get("csp_nonce")
    if nonce is not None:  # the page used it: the nonce is 128 random bits
        html = html.replace(nonce, str(hole(Hole("nonce"))))
    pieces = re.split(f"(\x00{mark}:[0-9]+\x00)", html)
    parts = tuple(holes[p] if p in holes else p for p in pieces if p)
    # A copy: the request may change the JSON settings in place later.
    return KeptPage(copy.deepcopy(organisation), parts)


def _fill(request, hole):
    if hole.kind == "csrf":
        return escape(get_csrf_token(request))
    if hole.kind == "nonce":
        return escape(request.csp_nonce)
    return slot(request, hole.name, **dict(hole.context))


def includeme(config):
    config.registry[CACHE] = RowCache.configured(
        config.get_settings(), {Organisation.__tablename__, PluginEnablement.__tablename__}
    )
