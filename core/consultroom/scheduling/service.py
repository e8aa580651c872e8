"""Availability from the database: whose blocks, which slots are taken, and
the free slots of one practitioner or department. Booking reads only the
blocks whose purpose includes booking (``FOR_BOOKING``); walk-in-only
blocks never give a slot."""

from datetime import datetime, time, timedelta

from sqlalchemy import or_, select

from consultroom.accounts.models import STAFF_ROLES, User
from consultroom.appointments.models import Appointment, Kind, Status
from consultroom.scheduling.models import FOR_BOOKING, AvailabilityBlock
from consultroom.scheduling.slots import booked_key, free_slots
from consultroom.tenancy.models import Department
from consultroom.tenancy.timezones import local_now, zone


def blocks_query(organisation, practitioner=None, department=None, purposes=None):
    """The organisation's blocks, of one owner and (``purposes``) of some
    purposes only."""
    query = select(AvailabilityBlock).where(AvailabilityBlock.organisation_id == organisation.id)
    if purposes is not None:
        query = query.where(AvailabilityBlock.purpose.in_(purposes))
    if practitioner is not None:
        query = query.where(AvailabilityBlock.practitioner_id == practitioner.id)
    if department is not None:
        query = query.where(AvailabilityBlock.department_id == department.id)
    return query


def _bookable_until(today):
    """SQL condition: a booking block with occurrences on or after ``today``."""
    return AvailabilityBlock.purpose.in_(FOR_BOOKING) & or_(
        AvailabilityBlock.on_date >= today,
        (AvailabilityBlock.weekday.is_not(None))
        & or_(AvailabilityBlock.valid_until.is_(None), AvailabilityBlock.valid_until >= today),
    )


def bookable_practitioners(dbsession, organisation):
    """Active staff of ``organisation`` with availability still to come."""
    today = local_now(organisation).date()
    has_blocks = (
        select(AvailabilityBlock.id)
        .where(AvailabilityBlock.practitioner_id == User.id, _bookable_until(today))
        .exists()
    )
    return dbsession.scalars(
        select(User)
        .where(
            User.organisation_id == organisation.id,
            User.active,
            User.role.in_(STAFF_ROLES),
            has_blocks,
        )
        .order_by(User.name)
    ).all()


def bookable_departments(dbsession, organisation):
    """Departments with availability still to come; only with strictly
    segregated departments can an appointment be with a department."""
    if not organisation.options["strict_departments"]:
        return []
    today = local_now(organisation).date()
    has_blocks = (
        select(AvailabilityBlock.id)
        .where(AvailabilityBlock.department_id == Department.id, _bookable_until(today))
        .exists()
    )
    return dbsession.scalars(
        select(Department)
        .where(Department.organisation_id == organisation.id, has_blocks)
        .order_by(Department.name)
    ).all()


def taken_slots(dbsession, organisation, starts_from, until):
    """The booked keys (see slots.booked_key) of the organisation's booked
    appointments starting in ``starts_from..until`` (naive UTC).

    Deliberately not through appointments.access: only times are read (no
    client data), and every booked time must hide its slot whoever asks;
    the segregation rules would make other departments' bookings look free.
    """
    rows = dbsession.execute(
        select(
            Appointment.practitioner_id,
            Appointment.department_id,
            Appointment.starts_at,
        ).where(
            Appointment.organisation_id == organisation.id,
            Appointment.status == Status.scheduled,
            Appointment.kind == Kind.appointment,
            Appointment.starts_at >= starts_from,
            Appointment.starts_at <= until,
        )
    )
    return {booked_key(row) for row in rows}


def slots_between(
    dbsession, organisation, first_day, last_day, practitioner=None, department=None, now=None
):
    """The free slots of one practitioner or department on the local dates
    ``first_day..last_day``."""
    query = blocks_query(organisation, practitioner, department, purposes=FOR_BOOKING)
    blocks = dbsession.scalars(query).all()
    if not blocks:
        return []
    # A local day lies within a day either side of the same UTC dates.
    margin = timedelta(days=1)
    taken = taken_slots(
        dbsession, organisation, _midnight(first_day - margin), _midnight(last_day + margin * 2)
    )
    return list(free_slots(blocks, zone(organisation), first_day, last_day, taken, now=now))


def _midnight(day):
    return datetime.combine(day, time())
