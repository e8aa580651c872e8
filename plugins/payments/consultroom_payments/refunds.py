"""Refunds, full or partial, from an appointment's page: through the
payment's provider, recorded, and the payment's state moved to refunded or
partly refunded (a fully refunded client must pay again to wait)."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select, update
from zope.sqlalchemy import mark_changed

from consultroom.appointments.access import appointment_or_404
from consultroom.audit import record
from consultroom.web import flash
from consultroom.web.errors import not_found
from consultroom_payments import accounts
from consultroom_payments.i18n import _
from consultroom_payments.models import SETTLED, Payment, Refund, Status
from consultroom_payments.money import display, parse_amount
from consultroom_payments.provider import ProviderError
from consultroom_payments.service import whole_id

MANAGE = "department.manage"


def of_appointment(request, appointment):
    """The appointment's payments that were paid (refunded ones too), newest first."""
    return request.dbsession.scalars(
        select(Payment)
        .where(
            Payment.organisation_id == request.organisation.id,
            Payment.appointment_id == appointment.id,
            Payment.status.in_((*SETTLED, Status.refunded)),
        )
        .order_by(Payment.id.desc())
    ).all()


def refundable(payment):
    return payment.gross - payment.refunded


def _claim(request, payment, amount):
    """Raise the payment's refunded amount by ``amount`` if nobody changed
    it meanwhile (two refunds at once cannot give back more than was paid);
    True when claimed."""
    total = payment.refunded + amount
    status = Status.refunded if total == payment.gross else Status.partly_refunded
    claimed = request.dbsession.execute(
        update(Payment)
        .where(
            Payment.organisation_id == request.organisation.id,
            Payment.id == payment.id,
            Payment.refunded == payment.refunded,
            Payment.status.in_(SETTLED),
        )
        .values(refunded=total, status=status)
        .execution_options(synchronize_session=False)
    ).rowcount
    mark_changed(request.dbsession)
    return bool(claimed)


@view_config(route_name="payments.refund", request_method="POST", permission=MANAGE)
def refund(request):
    payment_id = whole_id(request.matchdict["id"])
    payment = (
        None
        if payment_id is None
        else request.dbsession.scalar(
            select(Payment).where(
                Payment.organisation_id == request.organisation.id, Payment.id == payment_id
            )
        )
    )
    if payment is None or payment.appointment_id is None:
        return not_found(request)
    appointment = appointment_or_404(request, payment.appointment_id)  # segregation applies
    back = HTTPSeeOther(request.route_path("appointment", id=appointment.id))
    amount = parse_amount(request.POST.get("amount", ""), payment.currency)
    remaining = refundable(payment)
    if payment.status not in SETTLED or amount is None or not 0 < amount <= remaining:
        message = _(
            "Enter an amount above 0 and at most ${amount}.",
            mapping={"amount": display(remaining, payment.currency, request.locale_name)},
        )
        flash(
            request,
            message if payment.status in SETTLED else _("Nothing is left to refund."),
            "error",
        )
        return back
    chosen = accounts.active_one(request, payment.provider)
    if chosen is None:
        flash(request, _("The payment's provider is switched off: refund it there."), "error")
        return back
    provider, config = chosen
    savepoint = request.dbsession.begin_nested()
    if not _claim(request, payment, amount):
        savepoint.rollback()
        flash(request, _("The payment changed meanwhile: check it and try again."), "error")
        return back
    try:
        provider_ref = provider.refund(request, config, payment, amount)
    except ProviderError as exc:
        savepoint.rollback()
        flash(request, exc.args[0], "error")
        return back
    savepoint.commit()
    request.dbsession.add(
        Refund(
            organisation_id=request.organisation.id,
            payment_id=payment.id,
            amount=amount,
            provider_ref=provider_ref,
            user_id=request.identity.id,
        )
    )
    request.dbsession.refresh(payment)
    record(
        request,
        "payments.refund",
        "appointment",
        appointment.id,
        payment=payment.id,
        amount=str(amount),
    )
    flash(
        request,
        _(
            "${amount} was refunded.",
            mapping={"amount": display(amount, payment.currency, request.locale_name)},
        ),
    )
    return back


def includeme(config):
    config.add_plugin_route("payments.refund", r"/payments/{id:\d+}/refund")
    config.scan(".refunds")
