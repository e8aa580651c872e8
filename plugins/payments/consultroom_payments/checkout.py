"""Paying for an appointment: which appointments must be paid, starting a
payment through a provider (one per attempt, whatever the clicks), and
changing its state exactly once, whichever of the provider's webhook and
the client's return comes first."""

import logging

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from zope.sqlalchemy import mark_changed

from consultroom.db import utcnow
from consultroom_payments import receipts
from consultroom_payments.models import SETTLED, Charge, Payment, Status
from consultroom_payments.provider import FAILED, PAID

log = logging.getLogger(__name__)


def charge_of(request, appointment):
    """The appointment's Charge (it must be paid), or None (free)."""
    return request.dbsession.scalar(
        select(Charge).where(
            Charge.organisation_id == request.organisation.id,
            Charge.appointment_id == appointment.id,
        )
    )


def settled(request, appointment_ids):
    """The ids of the appointments among ``appointment_ids`` with a
    payment that lets the client in."""
    if not appointment_ids:
        return set()
    return set(
        request.dbsession.scalars(
            select(Payment.appointment_id).where(
                Payment.organisation_id == request.organisation.id,
                Payment.appointment_id.in_(appointment_ids),
                Payment.status.in_(SETTLED),
            )
        )
    )


def by_attempt(request, attempt):
    return request.dbsession.scalar(
        select(Payment).where(
            Payment.organisation_id == request.organisation.id, Payment.attempt == attempt
        )
    )


def by_ref(request, provider_id, ref):
    return request.dbsession.scalar(
        select(Payment).where(
            Payment.organisation_id == request.organisation.id,
            Payment.provider == provider_id,
            Payment.provider_ref == ref,
        )
    )


def create(request, payment):
    """Store a new pending payment; when another request stored one with
    the same attempt first (a double click), return that one instead."""
    try:
        with request.dbsession.begin_nested():
            request.dbsession.add(payment)
        return payment
    except IntegrityError:
        return by_attempt(request, payment.attempt)


def apply(request, payment, outcome):
    """Apply a provider's ``outcome`` to ``payment``: a payment of another
    amount or currency than asked is not a payment of it (it fails)."""
    state = outcome.state
    asked = (payment.gross, payment.currency)
    if state == PAID and outcome.amount is not None and (outcome.amount, outcome.currency) != asked:
        log.warning(
            "payment %s: paid %s %s, not %s", payment.id, outcome.amount, outcome.currency, asked
        )
        state = FAILED
    return settle(request, payment, state)


def settle(request, payment, state):
    """Move a pending ``payment`` to PAID or FAILED; True when this call
    made the change (one conditional UPDATE: of two requests racing, one
    wins), False when it was done before or ``state`` changes nothing."""
    if state not in (PAID, FAILED):
        return False
    target = Status.paid if state == PAID else Status.failed
    values = {"status": target}
    if target is Status.paid:
        values["paid_at"] = utcnow()
    changed = request.dbsession.execute(
        update(Payment)
        .where(
            Payment.organisation_id == request.organisation.id,
            Payment.id == payment.id,
            Payment.status == Status.pending,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    mark_changed(request.dbsession)
    request.dbsession.refresh(payment)
    if changed and target is Status.paid:
        receipts.issue(request, payment)  # in this transaction: its number with the payment
    return bool(changed)
