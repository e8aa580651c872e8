"""Which appointments a staff member may see: the segregation settings
applied to appointments, in one place."""
from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import or_, select

from consultroom.accounts.models import Role, User
from consultroom.appointments.models import Appointment


def visible_appointments(request, user=None):
    """A select of the request organisation's appointments that ``user`` (the
    logged-in staff member by default; None with an API key: everything) may
    see."""
    org = request.organisation
    query = select(Appointment).where(Appointment.organisation_id == org.id)
    user = user if user is not None else request.identity
    if user is None or user.role is Role.org_admin:
        return query
    options = org.options
    if options["strict_departments"]:
        query = query.where(or_(
            Appointment.department_id == user.department_id,
            Appointment.practitioner.has(User.department_id == user.department_id),
        ))
    if options["strict_clients"] and user.role is Role.practitioner:
        query = query.where(Appointment.practitioner_id == user.id)
    return query


def appointment_or_404(request, appointment_id, user=None):
    appointment = request.dbsession.scalar(
        visible_appointments(request, user).where(Appointment.id == appointment_id))
    if appointment is None:
        raise HTTPNotFound()
    return appointment
