"""Which appointments a staff member may see, and with whom they may book:
the segregation settings applied to appointments, in one place."""

from functools import lru_cache

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import or_, select

from consultroom.accounts.models import STAFF_ROLES, Role, User
from consultroom.appointments.models import Appointment
from consultroom.clients.access import Viewer
from consultroom.tenancy.models import Department


def _restricted(request, user):
    """The staff member whose view is restricted, or None when they (an
    organisation admin, or an API key: ``user`` None) see everything."""
    user = user if user is not None else request.identity
    return None if user is None or user.role is Role.org_admin else user


def visible_appointments(request, user=None):
    """A select of the request organisation's appointments that ``user`` (the
    logged-in staff member by default; None with an API key: everything) may
    see."""
    return appointments_visible_to(Viewer.of(request, user))


@lru_cache(maxsize=4096)  # built once per viewer, as clients_visible_to
def appointments_visible_to(viewer):
    """``visible_appointments`` for a ``consultroom.clients.access.Viewer``."""
    query = select(Appointment).where(Appointment.organisation_id == viewer.organisation_id)
    if viewer.user_id is None or viewer.role is Role.org_admin:
        return query
    if viewer.strict_departments:
        if viewer.department_id is None:
            # In no department: only their own appointments, not those of
            # every other practitioner without a department.
            query = query.where(Appointment.practitioner_id == viewer.user_id)
        else:
            query = query.where(
                or_(
                    Appointment.department_id == viewer.department_id,
                    Appointment.practitioner.has(User.department_id == viewer.department_id),
                )
            )
    if viewer.strict_clients and viewer.role is Role.practitioner:
        query = query.where(Appointment.practitioner_id == viewer.user_id)
    return query


def appointment_or_404(request, appointment_id, user=None):
    appointment = request.dbsession.scalar(
        visible_appointments(request, user).where(Appointment.id == appointment_id)
    )
    if appointment is None:
        raise HTTPNotFound()
    return appointment


def bookable_practitioners(request, user=None, include_inactive=False):
    """The (active) staff ``user`` may book appointments with: exactly those
    whose appointments they would then see (the rules above)."""
    org = request.organisation
    query = select(User).where(User.organisation_id == org.id, User.role.in_(STAFF_ROLES))
    if not include_inactive:
        query = query.where(User.active.is_(True))
    query = query.order_by(User.name, User.id)
    user = _restricted(request, user)
    if user is not None:
        if org.options["strict_clients"] and user.role is Role.practitioner:
            query = query.where(User.id == user.id)
        elif org.options["strict_departments"]:
            query = query.where(
                User.id == user.id
                if user.department_id is None
                else User.department_id == user.department_id
            )
    return request.dbsession.scalars(query).all()


def visible_departments(request, user=None):
    """The departments whose appointments ``user`` may see: all of the
    organisation's, or under strictly segregated departments only their own.
    Read once a request and user: the appointment form and the plugins'
    fields on it each ask."""
    user = _restricted(request, user)
    known = request.__dict__.setdefault("visible_departments_by_user", {})
    key = user.id if user is not None else None
    if key not in known:
        org = request.organisation
        query = (
            select(Department)
            .where(Department.organisation_id == org.id)
            .order_by(Department.name, Department.id)
        )
        if user is not None and org.options["strict_departments"]:
            query = query.where(Department.id == user.department_id)
        known[key] = request.dbsession.scalars(query).all()
    return list(known[key])


def bookable_departments(request, user=None):
    """The departments ``user`` may book an appointment with (without a
    practitioner): only where departments are strictly segregated, and
    then only those whose appointments they would see."""
    org = request.organisation
    if not org.options["strict_departments"]:
        return []
    restricted = _restricted(request, user)
    if (
        restricted is not None
        and org.options["strict_clients"]
        and restricted.role is Role.practitioner
    ):
        return []  # they would not see an appointment without themselves
    return visible_departments(request, user)
