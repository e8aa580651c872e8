"""Reading the stored usage figures for the report: per day, in total and
per staff member, for the whole organisation or one department."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from consultroom.accounts.models import Role, User
from consultroom.reports.compute import COUNTED, Counts, window
from consultroom.reports.models import UsageDay
from consultroom.tenancy.models import Department


@dataclass
class Report:
    first: date
    last: date
    department: Department | None
    computed_at: datetime | None = None
    days: list[tuple[date, Counts]] = field(default_factory=list)
    total: Counts = field(default_factory=Counts)
    staff: list[tuple[str, Counts]] = field(default_factory=list)

    @property
    def no_show_percent(self):
        return round(100 * self.total.no_shows / self.total.booked) if self.total.booked else 0

    @property
    def average_minutes(self):
        total = self.total
        return (
            round(total.consultation_seconds / 60 / total.consultations)
            if total.consultations
            else 0
        )


def departments_for(request):
    """The departments whose figures the user may read: an organisation
    admin's every one, a department admin's own."""
    user = request.identity
    query = select(Department).where(Department.organisation_id == request.organisation.id)
    if user.role is not Role.org_admin:
        query = query.where(Department.id == user.department_id)
    return request.dbsession.scalars(query.order_by(Department.name, Department.id)).all()


def _add(into, row):
    for name in COUNTED:
        setattr(into, name, getattr(into, name) + getattr(row, name))


def rows(request, department):
    first, last, _start, _end = window(request.organisation)
    query = select(UsageDay).where(
        UsageDay.organisation_id == request.organisation.id,
        UsageDay.day >= first,
        UsageDay.day <= last,
    )
    if department is not None:
        query = query.where(UsageDay.department_id == department.id)
    return request.dbsession.scalars(query.order_by(UsageDay.day, UsageDay.id)).all()


def report(request, department):
    """The report of the window, ``department``'s or (None) the organisation's."""
    first, last, _start, _end = window(request.organisation)
    result = Report(first, last, department)
    per_day = {first + timedelta(days=n): Counts() for n in range((last - first).days + 1)}
    per_user = {}
    for row in rows(request, department):
        result.computed_at = max(filter(None, [result.computed_at, row.computed_at]))
        _add(per_day[row.day], row)
        _add(result.total, row)
        if row.user_id is not None:
            _add(per_user.setdefault(row.user_id, Counts()), row)
    result.days = sorted(per_day.items())
    names = _user_names(request, per_user)
    result.staff = sorted(
        ((names.get(user_id, "?"), counts) for user_id, counts in per_user.items()),
        key=lambda item: item[0].lower(),
    )
    return result


def _user_names(request, ids):
    return dict(
        request.dbsession.execute(
            select(User.id, User.name).where(
                User.organisation_id == request.organisation.id, User.id.in_(ids)
            )
        ).all()
    )


def names(request, usage_rows):
    """The names of the departments and staff members of ``usage_rows``."""
    departments = dict(
        request.dbsession.execute(
            select(Department.id, Department.name).where(
                Department.organisation_id == request.organisation.id
            )
        ).all()
    )
    users = _user_names(request, {row.user_id for row in usage_rows if row.user_id})
    return {"departments": departments, "users": users}
