"""What every widget page (booking and walk-in) shares: who may frame it, and
a form token that works inside another site's iframe.

Why not the session's CSRF token: the session cookie is ``SameSite=Lax``, and
browsers do not send Lax cookies with requests from an iframe on another
site (www.example.org framing acme.consultroom.nl). A session-based token
would fail every POST there. The widget forms carry a stateless token
instead: an HMAC, with the session secret, of the organisation, the form and
an expiry time. The widget pages use no session at all.
"""

import hashlib
import hmac
import time
from urllib.parse import urlsplit

from pyramid.exceptions import BadCSRFToken

from consultroom.i18n import _

MAX_ORIGINS = 20
TOKEN_FIELD = "form_token"  # a field name  # nosec B105
TOKEN_SECONDS = 3 * 60 * 60
# Other features' origins that show the widgets (web page sets on their own
# subdomains): callables ``(request) -> [origin, ...]``.
FRAMING_ORIGINS = "consultroom.widgets.framing_origins"


class OriginRejected(ValueError):
    """Carries a translation string explaining why."""


def parse_origin(text):
    """``https://www.example.org[:port]`` normalised (lower case, no default
    port); raises OriginRejected for anything else (paths, wildcards...)."""
    text = text.strip()
    mapping = {"origin": text}
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise OriginRejected(_("${origin} is not a web address.", mapping=mapping)) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OriginRejected(
            _("${origin}: start with https:// and give the site's name.", mapping=mapping)
        )
    if (
        parts.username is not None
        or parts.password is not None
        or "*" in text
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or text.endswith(("?", "#"))
    ):
        raise OriginRejected(
            _(
                "${origin}: give only the scheme, the site's name and"
                " optionally a port, like https://www.example.org.",
                mapping=mapping,
            )
        )
    host = parts.hostname
    if not all(
        label and label.replace("-", "").isalnum() and label.isascii() for label in host.split(".")
    ):
        raise OriginRejected(_("${origin} is not a web address.", mapping=mapping))
    default = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{host}{suffix}"


def parse_origins(text):
    """The origins of a textarea (one per line, blank lines ignored), or
    OriginRejected naming the first bad one."""
    result = []
    for line in (text or "").splitlines():
        if line.strip():
            origin = parse_origin(line)
            if origin not in result:
                result.append(origin)
    if len(result) > MAX_ORIGINS:
        raise OriginRejected(
            _("At most ${n} sites can embed the widgets.", mapping={"n": MAX_ORIGINS})
        )
    return result


def add_framing_origins(config, origins):
    """Let a feature above the widgets name more origins that may frame them."""
    config.registry.setdefault(FRAMING_ORIGINS, []).append(origins)


def frame_ancestors(organisation, more=()):
    # Stored origins were validated on save; re-checked here so that a value
    # put in the database some other way cannot inject a directive.
    origins = []
    for origin in [*(organisation.embed_origins or []), *more]:
        try:
            origins.append(parse_origin(str(origin)))
        except OriginRejected:
            continue
    return " ".join(["frame-ancestors 'self'", *origins])


def embeddable(request):
    """Let the organisation's own sites frame this response, whatever it
    turns out to be (page, redirect or error page)."""
    more = [o for origins in request.registry.get(FRAMING_ORIGINS, ()) for o in origins(request)]
    policy = frame_ancestors(request.organisation, more)

    def add_header(_request, response):
        response.headers["Content-Security-Policy"] = policy
        response.headers.pop("X-Frame-Options", None)

    request.add_response_callback(add_header)


# Pages besides the widgets that the organisation's sites may frame: the
# client's waiting room and the room it turns into (/c/<token>, where the
# walk-in widget leads), and a guest's or participant's room (/join/, /p/).
# They run on the token in their address, not on a session cookie, so they
# work inside another site's iframe; camera and microphone need that
# iframe's allow="camera; microphone" (docs/themes.md, static/js/embed.js).
EMBEDDABLE_ROUTES = frozenset({"client_link", "room_join", "participant_link"})


def embeddable_pages(event):
    """ContextFound: let the organisation's sites frame the pages above."""
    request = event.request
    route = getattr(request, "matched_route", None)
    if route is not None and route.name in EMBEDDABLE_ROUTES and request.organisation:
        embeddable(request)


def _signature(request, form, expires):
    key = request.registry.settings["session.secret"].encode()
    message = f"{request.organisation.id}:{form}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def form_token(request, form):
    """A token for a widget form named ``form`` on this organisation."""
    expires = int(time.time()) + TOKEN_SECONDS
    return f"{expires}.{_signature(request, form, expires)}"


def check_form_token(request, form):
    """Raise BadCSRFToken (the "form expired" page) unless the POST carries
    a valid, unexpired token for ``form``."""
    expires, _dot, signature = request.POST.get(TOKEN_FIELD, "").partition(".")
    readable = expires.isascii() and expires.isdigit() and len(expires) <= 12
    if (
        not readable
        or int(expires) < time.time()
        or not hmac.compare_digest(
            signature.encode(), _signature(request, form, int(expires)).encode()
        )
    ):
        raise BadCSRFToken()
