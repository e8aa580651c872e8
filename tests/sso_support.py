"""Fixtures and helpers shared by the single sign-on tests (test_sso*.py):
an organisation with the plugin, its staff, and what the audit trail says.
A test module's fixtures call them."""

from consultroom_sso.models import Identity
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.audit.models import AuditEntry
from consultroom.tenancy.models import Department


def organisation(make_organisation, enable_plugin, dbsession):
    """Acme Clinic, with the plugin and a department."""
    org = make_organisation("acme", name="Acme Clinic")
    dbsession.add(Department(organisation_id=org.id, name="GP"))
    dbsession.flush()
    enable_plugin(org, "sso")
    return org


def ada(org, make_user):
    """A practitioner."""
    return make_user(org, name="Dr Ada", email="ada@acme.example")


def link(dbsession, connection, user, subject="subject-ada"):
    dbsession.add(
        Identity(
            organisation_id=user.organisation_id,
            connection_id=connection.id,
            subject=subject,
            user_id=user.id,
        )
    )
    dbsession.flush()


def entries(dbsession, org, *actions):
    return dbsession.scalars(
        select(AuditEntry)
        .where(AuditEntry.organisation_id == org.id, AuditEntry.action.in_(actions))
        .order_by(AuditEntry.id)
    ).all()


def logged_in(app):
    return app.get("/profile", expect_errors=True).status_int == 200


def refusals(dbsession, org):
    return [e.detail["reason"] for e in entries(dbsession, org, "sso.refused")]


def org_admin(org, make_user):
    return make_user(org, role=Role.org_admin, name="Admin", email="admin@acme.example")
