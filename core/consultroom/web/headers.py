"""Security headers on every response: page, redirect, error page, static
file, JSON.

The Content-Security-Policy allows scripts, styles, images, media and
connections from the page's own site only; inline scripts and event
handlers are refused. Inline ``<style>`` elements need the request's nonce
(``<style nonce="{{ request.csp_nonce }}">``). Style *attributes* are
allowed (``style-src-attr 'unsafe-inline'``): pages colour rows with
per-practitioner custom properties (``style="--who: hsl(...)"``); an
attribute has no selectors, so it cannot read the page the way an injected
stylesheet can, and ``img-src`` keeps its ``url()`` on this site.

A plugin's declared sources (``PluginInfo.csp``, checked by
``consultroom.plugins.csp``) are added for the organisations that enabled
it, and only for them: a directive the policy leaves to ``default-src``
starts from ``'self'``. They are added where the request looked up the
organisation's plugins (every page that renders the menu or a slot, every
plugin route and static file): a response that never asked cannot carry
anything of a plugin, and asking here would be too late (the request's
transaction has ended).

A page that needs more than this asks for it while it renders, for that
response only: ``allow(request, "script-src", "'wasm-unsafe-eval'")`` adds
sources to a directive, ``only(request, "frame-src", origins)`` sets one to
exactly those sources (``'none'`` when there are none).

A view may set its own Content-Security-Policy (a partial one): its
directives replace these (plugin sources included), the rest are kept.
The embeddable widget pages do so with ``frame-ancestors``; every other
page may not be framed at all.

HSTS only with ``security.hsts = true`` (production, behind HTTPS).
"""

import functools
import re
import secrets

from pyramid.events import NewResponse

from consultroom.plugins.csp import additions

HEADER = "Content-Security-Policy"
# A Host header safe to repeat inside the policy.
_HOST = re.compile(r"[a-z0-9.-]+(:[0-9]{1,5})?", re.IGNORECASE)
# Each browser feature and who may use it: the page itself, or nobody.
PERMISSIONS = {
    "camera": "self",
    "microphone": "self",
    "display-capture": "self",
    "fullscreen": "self",
    "geolocation": "",
    "payment": "",
    "usb": "",
}
# Changes a page may make to its own policy (allow, only).
_CHANGES = frozenset({"csp_allowed", "csp_only"})
_NONCE_HOLE = "\x00nonce\x00"
# The usable plugins that declare CSP sources, and their sources merged per
# set of enabled plugin ids: once per application.
_DECLARING = "consultroom.web.csp_declaring"


def _policy(request, nonce):
    """The directives for ``request``'s response, ``nonce`` in ``style-src``
    when given."""
    directives = dict(_base_policy(_base_key(request), nonce is not None))
    if nonce is not None:
        directives["style-src"] = directives["style-src"].replace(_NONCE_HOLE, nonce)
    for name, sources in request.__dict__.get("csp_allowed", {}).items():
        present = directives.get(name, directives["default-src"]).split()
        directives[name] = " ".join(dict.fromkeys([*present, *sources]))
    for name, sources in request.__dict__.get("csp_only", {}).items():
        directives[name] = " ".join(sources) or "'none'"
    return directives


def _base_key(request):
    """What the policy before a page's own changes depends on: the Host,
    whether cookies may travel without HTTPS, and the sources of the
    enabled plugins that declare any."""
    plain = request.registry.settings.get("session.secure", "true").lower() == "false"
    return request.host, plain, _plugin_sources(request)


# Kept per Host (a strange one too: see _websocket_sources), so bounded.
@functools.lru_cache(maxsize=256)
def _base_policy(key, with_nonce):
    """The directives as ``((name, value), ...)``, ``style-src`` with a hole
    for the nonce when ``with_nonce``."""
    host, plain, plugin_sources = key
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "style-src-attr": "'unsafe-inline'",
        "img-src": "'self' data:",
        "media-src": "'self' blob:",
        "connect-src": " ".join(["'self'", *_websocket_sources(host, plain)]),
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    if with_nonce:
        directives["style-src"] += f" 'nonce-{_NONCE_HOLE}'"
    for name, sources in plugin_sources:
        directives[name] = " ".join([directives.get(name, directives["default-src"]), *sources])
    return tuple(directives.items())


def _usual_header(request, nonce):
    """The policy's text where the page changed nothing (nearly every
    response), kept per Host and enabled plugins with a hole for the nonce:
    building it each time cost the kept login page about 8 us (4 %)."""
    before, _hole, after = _usual_text(_base_key(request), nonce is not None)
    return before if nonce is None else f"{before}{nonce}{after}"


@functools.lru_cache(maxsize=256)
def _usual_text(key, with_nonce):
    return _joined(dict(_base_policy(key, with_nonce))).partition(_NONCE_HOLE)


def _joined(directives):
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


def allow(request, directive, *sources):
    """Add ``sources`` to ``directive`` of this request's response."""
    request.__dict__.setdefault("csp_allowed", {}).setdefault(directive, []).extend(sources)


def delegate(request, origin, features=("camera", "microphone")):
    """Let a frame from ``origin`` on this page use ``features`` (the frame
    asks too, with its ``allow`` attribute): the page's own ``self`` would
    keep them from a frame of another origin."""
    delegated = request.__dict__.setdefault("permissions_delegated", {})
    for feature in features:
        delegated.setdefault(feature, []).append(origin)


def _permissions_header(delegated):
    features = []
    for feature, allowed in PERMISSIONS.items():
        origins = [f'"{origin}"' for origin in dict.fromkeys(delegated.get(feature, ()))]
        features.append(f"{feature}=({' '.join(filter(None, [allowed, *origins]))})")
    return ", ".join(features)


# Most responses delegate nothing: their header is always this one.
_UNDELEGATED = _permissions_header({})


def _permissions(request):
    delegated = request.__dict__.get("permissions_delegated")
    return _permissions_header(delegated) if delegated else _UNDELEGATED


def only(request, directive, sources):
    """Set ``directive`` of this request's response to exactly ``sources``."""
    request.__dict__.setdefault("csp_only", {})[directive] = list(dict.fromkeys(sources))


def _plugin_sources(request):
    """The CSP sources declared by the plugins the organisation enabled, as
    ``((directive, sources), ...)``."""
    registry = request.registry
    declaring = registry.get(_DECLARING)
    if declaring is None:
        usable = registry.plugins.usable()
        declaring = registry[_DECLARING] = ([p for p in usable if p.info.csp], {})
    plugins, merged = declaring
    if not plugins:
        return ()  # no plugin declares any: no need to know the organisation
    enabled = request.__dict__.get("enabled_plugin_ids", frozenset())  # reified when asked
    sources = merged.get(enabled)
    if sources is None:  # once per set of enabled plugins
        added = additions(p.info.csp for p in plugins if p.id in enabled)
        sources = merged[enabled] = tuple((k, tuple(v)) for k, v in added.items())
    return sources


def _websocket_sources(host, plain):
    # Older browsers do not count ws(s): as 'self'. Plain ws: only where
    # cookies may travel without HTTPS (development, tests).
    if not _HOST.fullmatch(host):
        return []
    return [f"wss://{host}", *([f"ws://{host}"] if plain else [])]


def _parse(header):
    directives = {}
    for part in header.split(";"):
        name, _space, value = part.strip().partition(" ")
        if name:
            directives[name.lower()] = value.strip()
    return directives


def _add_headers(event):
    request, response = event.request, event.response
    nonce = request.__dict__.get("csp_nonce")  # only if the page used one
    own_header = response.headers.get(HEADER)
    if own_header is not None or any(key in request.__dict__ for key in _CHANGES):
        own = _parse(own_header) if own_header is not None else {}
        policy = _policy(request, nonce)
        directives = {**own, **{k: v for k, v in policy.items() if k not in own}}
        header, framed = _joined(directives), directives["frame-ancestors"] != "'none'"
    else:
        header, framed = _usual_header(request, nonce), False
    values = {
        HEADER: header,
        "X-Content-Type-Options": "nosniff",
        "Permissions-Policy": _permissions(request),
    }
    if not framed:
        values["X-Frame-Options"] = "DENY"  # for browsers without CSP level 2
    if request.registry.settings.get("security.hsts", "false").lower() == "true":
        values["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    # Pages with a token in their address set no-referrer themselves.
    _set_headers(response, values, defaults={"Referrer-Policy": "same-origin"})


def _set_headers(response, values, defaults):
    """Set ``values`` (replacing the response's own) and ``defaults`` (where
    the response has none) in one pass over its header list: webob's
    ``headers[name] = value`` scans the whole list once for each header."""
    replaced = {name.lower() for name in values}
    kept = [(name, value) for name, value in response.headerlist if name.lower() not in replaced]
    present = {name.lower() for name, _value in kept}
    kept += values.items()
    kept += [(name, value) for name, value in defaults.items() if name.lower() not in present]
    response.headerlist = kept


def _nonce(request):
    return secrets.token_urlsafe(16)


def includeme(config):
    config.add_request_method(_nonce, "csp_nonce", reify=True)
    config.add_subscriber(_add_headers, NewResponse)
