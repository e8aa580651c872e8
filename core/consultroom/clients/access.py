"""Which clients a staff member may see: the one place where "strictly
segregated departments" and "strictly segregated clients" are applied to
clients. Every list, search, detail page, export and API call starts here."""

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import select

from consultroom.accounts.models import Role, User
from consultroom.clients.models import Client, client_department, client_practitioner
from consultroom.tenancy.models import Department

# What visible_clients reads: for a cache of what is selected through it
# (consultroom.db.cache.ResultCache), which must hear of their changes.
TABLES_READ = frozenset(
    {
        Client.__tablename__,
        client_department.name,
        Department.__tablename__,
        client_practitioner.name,
        User.__tablename__,
    }
)


def visible_clients(request, user=None):
    """A select of the request organisation's clients that ``user`` (the
    logged-in staff member by default; None with an API key: everything)
    may see."""
    org = request.organisation
    query = select(Client).where(Client.organisation_id == org.id)
    user = user if user is not None else request.identity
    if user is None or user.role is Role.org_admin:
        return query
    options = org.options
    if options["strict_departments"]:
        query = query.where(Client.departments.any(Department.id == user.department_id))
    if options["strict_clients"] and user.role is Role.practitioner:
        query = query.where(Client.practitioners.any(User.id == user.id))
    return query


def client_or_404(request, client_id, user=None):
    client = request.dbsession.scalar(visible_clients(request, user).where(Client.id == client_id))
    if client is None:
        raise HTTPNotFound()
    return client
