"""The floors of ``request_cost.py``: what any application on this stack must
do to answer its two requests, and nothing more, so that the application's
cost can be told from the stack's. Served beside the application, on the
same database.

Pyramid, with pyramid_tm and zope.sqlalchemy (a transaction per request),
SQLAlchemy and psycopg, as the application; no tweens, server-side
sessions, security policy, tenancy scope, templates or plugins.
Hand-written SQL, its statements built once.

``GET /api/v1/appointments``, an audited read: the organisation looked up by
the API key's hash, its first 50 appointments read, one pending audit entry
inserted (not linked into a chain, which the application's chainer does
after the response), the transaction committed, the rows rendered as JSON
by Pyramid's renderer.

``GET /login``, the anonymous login page: the organisation of the Host's
subdomain (kept per process after its first query), the language of
Accept-Language, a visitor id in a cookie and the CSRF token signed for it,
a CSP nonce, the security headers, and a page of the login page's size with
the token and the nonce filled in. No transaction.

    [app:main]
    use = call:floor_app:main
    sqlalchemy.url = ...
    session.secret = ...
"""

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

from consultroom import patching

PAGE = 50
# The floor's audit entries are filed under an organisation id no
# organisation has: the application's chainer links every pending entry of
# its organisation, and would otherwise link the floor's on its own time.
FLOOR_CHAIN_OFFSET = 1_000_000_000
# The API list's columns that are stored as they are shown.
COLUMNS = (
    "id",
    "client_id",
    "practitioner_id",
    "department_id",
    "kind",
    "status",
    "starts_at",
    "duration_minutes",
    "message",
    "created_at",
    "updated_at",
)
LANGUAGES = ("en", "nl", "de", "sv")
# About the size of the application's login page (1,777 bytes).
LOGIN_PAGE = (
    '<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<title>Log in</title><link rel="stylesheet" href="/static/css/app.css">'
    '<style nonce="{nonce}">:root {{ --brand: #1a5fb4; }}</style></head><body>'
    '<main class="login"><h1>Log in</h1><form method="post" action="/login">'
    '<input type="hidden" name="csrf_token" value="{csrf}">'
    '<label for="email">E-mail address</label>'
    '<input id="email" name="email" type="email" autocomplete="username" required>'
    '<label for="password">Password</label><input id="password" name="password" '
    'type="password" autocomplete="current-password" required>'
    '<button type="submit">Log in</button></form>'
    '<p><a href="/password/forgotten">Forgot your password?</a></p></main>'
    '<footer><nav><a href="?_LOCALE_=en">English</a> <a href="?_LOCALE_=nl">Nederlands</a> '
    '<a href="?_LOCALE_=de">Deutsch</a> <a href="?_LOCALE_=sv">Svenska</a></nav></footer>'
    "</body></html>"
)
_FILLED = len(LOGIN_PAGE.format(language="en", csrf="0" * 64, nonce="0" * 22))
LOGIN_PAGE += "<!--" + "." * (1777 - _FILLED - len("<!---->")) + "-->"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}';"
    " style-src-attr 'unsafe-inline'; img-src 'self' data:; media-src 'self' blob:;"
    " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)


def main(global_config, **settings):
    # As consultroom.main: the runner refuses to serve an unpatched process.
    patching.patch()
    patching.ensure()
    return make_app(settings)


def make_app(settings):
    from pyramid.config import Configurator
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker
    from zope.sqlalchemy import register

    engine = create_engine(settings["sqlalchemy.url"])
    maker = sessionmaker(bind=engine)
    register(maker)  # every session joins the request's transaction
    with Configurator(settings=settings) as config:
        # The login page reads no database in a request: no transaction.
        config.add_settings({"tm.activate_hook": lambda request: request.path != "/login"})
        config.include("pyramid_tm")
        config.add_request_method(lambda request: maker(), "dbsession", reify=True)
        config.add_route("appointments", "/api/v1/appointments")
        config.add_view(_api_list(), route_name="appointments", renderer="json")
        config.add_route("login", "/login")
        config.add_view(_login_page(engine, settings["session.secret"]), route_name="login")
        return config.make_wsgi_app()


def _api_list():
    from pyramid.httpexceptions import HTTPUnauthorized
    from sqlalchemy import DateTime, bindparam, text
    from zope.sqlalchemy import mark_changed

    organisation = text("SELECT id FROM organisation WHERE api_key_hash = :hash")
    page = text(
        f"SELECT {', '.join(COLUMNS)} FROM appointment"
        " WHERE organisation_id = :organisation ORDER BY starts_at, id LIMIT :limit"
    ).columns(starts_at=DateTime, created_at=DateTime, updated_at=DateTime)
    audit = text(
        "INSERT INTO audit_pending (organisation_id, at, user_name, support_user_name,"
        " action, object_type, address, detail) VALUES (:organisation, :at, 'API key', '',"
        " 'appointment.list', 'appointment', :address, '{}')"
    ).bindparams(bindparam("at", type_=DateTime))

    def appointments(request):
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        db = request.dbsession
        found = db.scalar(organisation, {"hash": hashlib.sha256(key.encode()).hexdigest()})
        if found is None:
            raise HTTPUnauthorized()
        rows = db.execute(page, {"organisation": found, "limit": PAGE + 1}).all()
        db.execute(
            audit,
            {"organisation": found + FLOOR_CHAIN_OFFSET, "at": datetime.now(UTC), "address": ""},
        )
        mark_changed(db)  # SQL the ORM did not write: commit it all the same
        return {"items": [_json(row) for row in rows[:PAGE]], "next": None}

    return appointments


def _json(row):
    return {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in zip(COLUMNS, row, strict=True)
    }


def _login_page(engine, secret):
    from pyramid.httpexceptions import HTTPNotFound
    from pyramid.response import Response
    from sqlalchemy import text

    by_subdomain = text("SELECT id FROM organisation WHERE subdomain = :subdomain")
    organisations = {}  # subdomain -> id, kept per process as the application does
    key = secret.encode()

    def organisation_of(subdomain):
        if subdomain not in organisations:
            with engine.connect() as connection:  # outside any transaction of a request
                organisations[subdomain] = connection.scalar(by_subdomain, {"subdomain": subdomain})
        return organisations[subdomain]

    def login(request):
        organisation = organisation_of(request.host.partition(".")[0])
        if organisation is None:
            raise HTTPNotFound()
        language = request.accept_language.lookup(LANGUAGES, default="en")
        visitor = f"{int(time.time())}.{secrets.token_urlsafe(32)}"
        message = f"csrf:{organisation}:{visitor}".encode()
        csrf = hmac.new(key, message, hashlib.sha256).hexdigest()
        nonce = secrets.token_urlsafe(16)
        body = LOGIN_PAGE.format(language=language, csrf=csrf, nonce=nonce)
        response = Response(body, content_type="text/html", charset="UTF-8")
        response.headerlist += [
            ("Content-Security-Policy", CSP.format(nonce=nonce)),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
            ("Cache-Control", "no-store"),
        ]
        response.set_cookie("session", visitor, httponly=True, samesite="Lax")
        return response

    return login
