# ruff: noqa: F811 (the fixtures imported from test_payments_pay are arguments here)
"""PayPal in the payments plugin (plugins/payments), through the real
``paypal-server-sdk`` against a fake PayPal API on loopback
(tests/payments_fakes.py), pointed at by the installation's setting
``payments.paypal_base_url``: an Orders v2 order per attempt (the attempt as
PayPal-Request-Id, so a double click makes one), approved at PayPal and
captured on the client's return, once; the capture webhook counts only when
PayPal's verify-webhook-signature API says so, and pays once whichever
comes first."""

import json
from decimal import Decimal

import pytest
from consultroom_payments.models import Receipt, Status
from payments_fakes import PAYPAL_CLIENT_ID, PAYPAL_SECRET, PAYPAL_WEBHOOK_ID, FakePayPal
from sqlalchemy import select
from test_payments_pay import (  # noqa: F401 (fixtures)
    charge,
    clinic,
    fake_stripe,
    pay_form,
    payments,
    provider_link,
    quote,
)

from clients_support import post


@pytest.fixture
def fake_paypal(app, clinic):
    with FakePayPal() as fake:
        settings = app.registry.settings
        settings["payments.paypal_base_url"] = fake.url
        keys = {
            "client_id": PAYPAL_CLIENT_ID,
            "client_secret": PAYPAL_SECRET,
            "webhook_id": PAYPAL_WEBHOOK_ID,
            "sandbox": "y",
            "active": "y",
        }
        post(clinic["admin"], "/payments/providers/paypal", keys)
        yield fake
        del settings["payments.paypal_base_url"]


def paypal_form(page):
    return next(
        f for f in page.forms.values() if f.fields.get("provider", [None])[0].value == "paypal"
    )


def start(webtest, clinic, dbsession):
    charge(dbsession, clinic)
    app = webtest("pay")
    form = paypal_form(quote(app, clinic["appointment"].token))
    return app, form


def test_pay_with_paypal_captured_on_return(clinic, webtest, dbsession, fake_paypal, smtp):
    app, form = start(webtest, clinic, dbsession)
    checkout = form.submit(status=303)
    second = form.submit(status=303)  # a double click
    [order_id] = fake_paypal.orders
    assert (
        provider_link(checkout)
        == provider_link(second)
        == f"{fake_paypal.url}/checkoutnow?token={order_id}"
    )
    assert len(fake_paypal.creates) == 1
    [payment] = payments(dbsession)
    request_id, body = fake_paypal.creates[0]
    assert request_id == payment.attempt
    assert body["purchase_units"][0]["amount"] == {"currency_code": "EUR", "value": "50.00"}
    assert body["intent"] == "CAPTURE"

    token = clinic["appointment"].token
    # Back before approving (the client pressed back): nothing captured, still pending.
    page = app.get(f"/pay/{token}/return", {"attempt": payment.attempt, "token": order_id})
    assert "waiting for the confirmation" in page.text
    assert payments(dbsession)[0].status is Status.pending

    fake_paypal.approve(order_id)
    back = app.get(
        f"/pay/{token}/return", {"attempt": payment.attempt, "token": order_id}, status=303
    )
    assert back.location.endswith(f"/c/{token}")
    assert payments(dbsession)[0].status is Status.paid
    # A reload of the return page captures nothing more.
    app.get(f"/pay/{token}/return", {"attempt": payment.attempt}, status=303)
    assert fake_paypal.captures == [f"capture-{order_id}"]
    assert len(dbsession.scalars(select(Receipt)).all()) == 1 and len(smtp.messages) == 1


def webhook(app, body, headers, status=200):
    return app.post("/payments/webhook/paypal", body, headers=headers, status=status)


def test_the_capture_webhook_counts_once_and_only_verified(clinic, webtest, dbsession, fake_paypal):
    app, form = start(webtest, clinic, dbsession)
    form.submit(status=303)
    [order_id] = fake_paypal.orders
    fake_paypal.approve(order_id)
    status, _order = fake_paypal._capture(order_id, "captured-elsewhere")  # e.g. from another tab
    assert status == 201

    body, headers = fake_paypal.capture_event(order_id)
    forged = dict(headers, **{"PAYPAL-TRANSMISSION-SIG": "0" * 64})
    webhook(app, body, forged, status=400)
    tampered = json.loads(body)
    tampered["resource"]["amount"]["value"] = "0.50"
    webhook(app, json.dumps(tampered).encode(), headers, status=400)
    webhook(app, b"not json", headers, status=400)
    assert payments(dbsession)[0].status is Status.pending

    webhook(app, body, headers)
    [payment] = payments(dbsession)
    assert payment.status is Status.paid
    paid_at = payment.paid_at
    webhook(app, body, headers)  # a replay
    app.get(f"/pay/{clinic['appointment'].token}/return", {"attempt": payment.attempt}, status=303)
    [payment] = payments(dbsession)
    assert (payment.status, payment.paid_at) == (Status.paid, paid_at)
    assert len(dbsession.scalars(select(Receipt)).all()) == 1


def test_a_capture_of_another_amount_is_no_payment(clinic, webtest, dbsession, fake_paypal):
    app, form = start(webtest, clinic, dbsession)
    form.submit(status=303)
    [order_id] = fake_paypal.orders
    fake_paypal.approve(order_id)
    fake_paypal._capture(order_id, "elsewhere")
    body, headers = fake_paypal.capture_event(order_id, value="0.50")
    webhook(app, body, headers)
    assert payments(dbsession)[0].status is Status.failed


def test_wrong_paypal_keys_are_a_clear_error(clinic, webtest, dbsession, fake_paypal):
    post(
        clinic["admin"],
        "/payments/providers/paypal",
        {"client_secret": "wrong", "active": "y", "client_id": PAYPAL_CLIENT_ID},
    )
    app, form = start(webtest, clinic, dbsession)
    page = form.submit(status=502)
    assert "PayPal refused" in page.text
    [payment] = payments(dbsession)
    assert payment.status is Status.failed and fake_paypal.orders == {}


def test_refund_of_a_paypal_payment(clinic, webtest, dbsession, fake_paypal):
    app, form = start(webtest, clinic, dbsession)
    form.submit(status=303)
    [order_id] = fake_paypal.orders
    fake_paypal.approve(order_id)
    [payment] = payments(dbsession)
    app.get(f"/pay/{clinic['appointment'].token}/return", {"attempt": payment.attempt})
    page = post(clinic["admin"], f"/payments/{payment.id}/refund", {"amount": "12.5"}).follow()
    assert "€12.50 was refunded." in page.text
    [refund] = fake_paypal.refunds
    assert refund["amount"] == {"currency_code": "EUR", "value": "12.50"}
    [payment] = payments(dbsession)
    assert (payment.status, payment.refunded) == (Status.partly_refunded, Decimal("12.5"))


def test_an_approval_webhook_captures_when_the_client_never_returns(
    clinic, webtest, dbsession, fake_paypal, smtp
):
    app, form = start(webtest, clinic, dbsession)
    form.submit(status=303)
    [order_id] = fake_paypal.orders
    fake_paypal.approve(order_id)  # ...and the client closes the tab
    body, headers = fake_paypal.approved_event(order_id)
    webhook(app, body, headers)
    [payment] = payments(dbsession)
    assert payment.status is Status.paid
    webhook(app, body, headers)  # PayPal's retry
    app.get(f"/pay/{clinic['appointment'].token}/return", {"attempt": payment.attempt}, status=303)
    assert fake_paypal.captures == [f"capture-{order_id}"]  # captured once
    assert len(smtp.messages) == 1
