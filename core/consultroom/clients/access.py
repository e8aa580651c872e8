"""Which clients a staff member may see: the one place where "strictly
segregated departments" and "strictly segregated clients" are applied to
clients. Every list, search, detail page, export and API call starts here."""

from dataclasses import dataclass
from functools import lru_cache

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


@dataclass(frozen=True)
class Viewer:
    """All that decides which of an organisation's clients (and
    appointments, consultroom.appointments.access) someone may see, as plain
    values. ``clients_visible_to`` reads nothing else, so that its select
    can be kept per viewer; what decides more (a new segregation rule) is
    added here, or it cannot be read."""

    organisation_id: int
    user_id: int | None  # None: an API key, which sees every client
    role: Role | None
    department_id: int | None
    strict_departments: bool
    strict_clients: bool

    @classmethod
    def of(cls, request, user=None):
        """The viewer ``user`` is on ``request``'s organisation (the
        logged-in staff member by default; None with an API key)."""
        org = request.organisation
        user = user if user is not None else request.identity
        options = org.options  # a dict built at each access
        strict = (options["strict_departments"], options["strict_clients"])
        if user is None:
            return cls(org.id, None, None, None, *strict)
        return cls(org.id, user.id, user.role, user.department_id, *strict)


def visible_clients(request, user=None):
    """A select of the request organisation's clients that ``user`` (the
    logged-in staff member by default; None with an API key: everything)
    may see."""
    return clients_visible_to(Viewer.of(request, user))


# Built once per viewer: statements are immutable (what callers add makes a
# new one), and a kept one's SQLAlchemy cache key is made once.
@lru_cache(maxsize=4096)
def clients_visible_to(viewer):
    """``visible_clients`` for a ``Viewer``."""
    query = select(Client).where(Client.organisation_id == viewer.organisation_id)
    if viewer.user_id is None or viewer.role is Role.org_admin:
        return query
    if viewer.strict_departments:
        query = query.where(Client.departments.any(Department.id == viewer.department_id))
    if viewer.strict_clients and viewer.role is Role.practitioner:
        query = query.where(Client.practitioners.any(User.id == viewer.user_id))
    return query


def client_or_404(request, client_id, user=None):
    client = request.dbsession.scalar(visible_clients(request, user).where(Client.id == client_id))
    if client is None:
        raise HTTPNotFound()
    return client
