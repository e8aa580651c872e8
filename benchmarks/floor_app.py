"""The API list's floor: what any application on this stack must do to
answer ``GET /api/v1/appointments`` with an audited read, and nothing more.

Pyramid with pyramid_tm and zope.sqlalchemy (the transaction per request),
SQLAlchemy and psycopg, as the application; no tweens, sessions, security
policy, tenancy scope or plugins. Per request: the organisation looked up by
the API key's hash, its first 50 appointments read, one pending audit entry
inserted (not linked into a chain, which the application's chainer does
after the response), the transaction committed, the rows rendered as JSON by
Pyramid's renderer. Hand-written SQL, its statements built once. ``request_cost.py`` serves it
beside the application on the same database, so that the application's cost
can be told from the stack's.

    [app:main]
    use = call:floor_app:main
    sqlalchemy.url = ...
"""

import hashlib
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


def main(global_config, **settings):
    # As consultroom.main: the runner refuses to serve an unpatched process.
    patching.patch()
    patching.ensure()
    return make_app(settings)


def make_app(settings):
    from pyramid.config import Configurator
    from pyramid.httpexceptions import HTTPUnauthorized
    from sqlalchemy import DateTime, bindparam, create_engine, text
    from sqlalchemy.orm import sessionmaker
    from zope.sqlalchemy import mark_changed, register

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
    maker = sessionmaker(bind=create_engine(settings["sqlalchemy.url"]))
    register(maker)  # every session joins the request's transaction

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

    with Configurator(settings=settings) as config:
        config.include("pyramid_tm")
        config.add_request_method(lambda request: maker(), "dbsession", reify=True)
        config.add_route("appointments", "/api/v1/appointments")
        config.add_view(appointments, route_name="appointments", renderer="json")
        return config.make_wsgi_app()


def _json(row):
    return {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in zip(COLUMNS, row, strict=True)
    }
