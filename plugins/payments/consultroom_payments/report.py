"""The payments' figures in the organisation's usage report (its
``usage_report`` slot): per currency, the payments made in the report's
days, what they came to, their VAT and what was refunded, for the
organisation or one department."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pyramid.renderers import render
from sqlalchemy import or_, select

from consultroom.accounts.models import User
from consultroom.appointments.models import Appointment
from consultroom_payments.i18n import page
from consultroom_payments.models import Payment, Status

COUNTED = (Status.paid, Status.partly_refunded, Status.refunded)


@dataclass
class Figures:
    payments: int = 0
    gross: Decimal = field(default_factory=Decimal)
    vat: Decimal = field(default_factory=Decimal)
    refunded: Decimal = field(default_factory=Decimal)


def _utc(day, organisation):
    local = datetime.combine(day, time(), tzinfo=ZoneInfo(organisation.timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


def figures(request, first, last, department):
    """{currency: Figures} of the payments made from ``first`` to ``last``
    (local days, inclusive), of ``department``'s appointments or all."""
    organisation = request.organisation
    query = select(Payment).where(
        Payment.organisation_id == organisation.id,
        Payment.status.in_(COUNTED),
        Payment.paid_at >= _utc(first, organisation),
        Payment.paid_at < _utc(last + timedelta(days=1), organisation),
    )
    if department is not None:
        query = query.join(Appointment, Appointment.id == Payment.appointment_id).where(
            or_(
                Appointment.department_id == department.id,
                Appointment.practitioner.has(User.department_id == department.id),
            )
        )
    found = defaultdict(Figures)
    for payment in request.dbsession.scalars(query):
        row = found[payment.currency]
        row.payments += 1
        row.gross += payment.gross
        row.vat += payment.vat
        row.refunded += payment.refunded
    return dict(sorted(found.items()))


def usage_slot(request, context):
    found = figures(request, context["first"], context["last"], context.get("department"))
    return render(
        "consultroom_payments:templates/usage_report.html", page(request, figures=found), request
    )
