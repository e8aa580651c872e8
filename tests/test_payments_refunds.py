# ruff: noqa: F811 (the fixtures imported from test_payments_pay are arguments here)
"""Refunds and bookkeeping in the payments plugin (plugins/payments): the
appointment page shows the payment, its receipt and a refund form; a
partial and then the rest are refunded through Stripe (the real SDK against
the fake), never more than was paid; a fully refunded client must pay
again; the payments list filters and exports CSV; receipts download as
issued; another organisation's ids are 404; other roles are refused."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from consultroom_payments.models import Refund, Status
from sqlalchemy import select
from test_payments_pay import (  # noqa: F401 (fixtures)
    _paid_session,
    clinic,
    fake_stripe,
    is_waiting_room,
    payments,
)

from consultroom.accounts.models import Role
from consultroom.plugins import set_enabled
from consultroom.tenancy.models import Department

from clients_support import post


@pytest.fixture
def paid(clinic, webtest, dbsession, fake_stripe):
    app, _session_id = _paid_session(clinic, webtest, dbsession, fake_stripe)
    [payment] = payments(dbsession)
    app.get(f"/pay/{clinic['appointment'].token}/return", {"attempt": payment.attempt})
    return payments(dbsession)[0]


@pytest.fixture
def dept_admin(clinic, webtest, login, make_user):
    app = webtest("pay")
    login(app, make_user(clinic["org"], role=Role.dept_admin))
    return app


def flashes(page):
    return [p.get_text(" ", strip=True) for p in page.html.select("p.flash, .flash")]


def test_refund_part_then_the_rest(clinic, paid, dbsession, fake_stripe, webtest):
    admin = clinic["admin"]
    appointment = clinic["appointment"]
    page = admin.get(f"/appointments/{appointment.id}")
    block = page.html.select_one(".payments-appointment")
    assert "Paid: €50.00" in block.get_text(" ", strip=True)
    assert block.select_one("a")["href"] == "/payments/receipts/1.pdf"
    receipt = admin.get("/payments/receipts/1.pdf")
    assert receipt.content_type == "application/pdf" and receipt.body.startswith(b"%PDF")

    page = post(admin, f"/payments/{paid.id}/refund", {"amount": "20,00"}).follow()
    assert "€20.00 was refunded." in page.text
    [payment] = payments(dbsession)
    assert (payment.status, payment.refunded) == (Status.partly_refunded, Decimal("20.00"))
    assert fake_stripe.refunds[0]["amount"] == 2000
    assert fake_stripe.refunds[0]["payment_intent"].startswith("pi_test_")
    assert is_waiting_room(webtest("pay").get(f"/c/{appointment.token}"))  # still paid

    for bad in ("30.01", "0", "-5", "abc", "1.001"):
        page = post(admin, f"/payments/{paid.id}/refund", {"amount": bad}).follow()
        assert "Enter an amount above 0 and at most €30.00." in page.text
    assert len(fake_stripe.refunds) == 1

    post(admin, f"/payments/{paid.id}/refund", {"amount": "30"}).follow()
    [payment] = payments(dbsession)
    assert (payment.status, payment.refunded) == (Status.refunded, Decimal("50.00"))
    assert [r.amount for r in dbsession.scalars(select(Refund).order_by(Refund.id))] == [
        Decimal("20.00"),
        Decimal("30"),
    ]
    page = post(admin, f"/payments/{paid.id}/refund", {"amount": "1"}).follow()
    assert "Nothing is left to refund." in page.text
    # Refunded in full: the step is open again.
    assert not is_waiting_room(webtest("pay").get(f"/c/{appointment.token}"))


def test_a_provider_refusal_changes_nothing(clinic, paid, dbsession, fake_stripe, monkeypatch):
    monkeypatch.setattr(fake_stripe, "sessions", {})  # Stripe no longer knows the session
    page = post(clinic["admin"], f"/payments/{paid.id}/refund", {"amount": "10"}).follow()
    assert "Stripe refused the refund." in page.text
    [payment] = payments(dbsession)
    assert (payment.status, payment.refunded) == (Status.paid, Decimal("0"))
    assert dbsession.scalars(select(Refund)).all() == []


def test_who_may_refund_and_see_it(clinic, paid, webtest, login, dbsession, dept_admin):
    practitioner = webtest("pay")
    login(practitioner, clinic["doctor"])
    page = practitioner.get(f"/appointments/{clinic['appointment'].id}")
    assert page.html.select_one(".payments-appointment form") is None
    post(practitioner, f"/payments/{paid.id}/refund", {"amount": "1"}, status=403)
    practitioner.get("/payments", status=403)
    practitioner.get("/payments/export.csv", status=403)
    post(dept_admin, f"/payments/{paid.id}/refund", {"amount": "1"}).follow()
    assert payments(dbsession)[0].refunded == Decimal("1")


def test_another_organisations_payment_is_404(clinic, paid, webtest, login, make_user):
    other = webtest("other")
    login(other, make_user(clinic["other"], role=Role.org_admin))
    post(other, f"/payments/{paid.id}/refund", {"amount": "1"}, status=404)
    other.get("/payments/receipts/1.pdf", status=404)
    assert "J. Jansen" not in other.get("/payments").text


def test_the_list_filters_and_exports(clinic, paid, dbsession):
    admin = clinic["admin"]
    page = admin.get("/payments")
    [row] = page.html.select("tr[data-payment]")
    assert "J. Jansen" in row.get_text() and "Paid" in row.get_text()
    assert not admin.get("/payments", {"state": "pending"}).html.select("tr[data-payment]")
    assert admin.get("/payments", {"payer": "jansen", "provider": "stripe"}).html.select(
        "tr[data-payment]"
    )
    assert not admin.get("/payments", {"from": "2199-01-01"}).html.select("tr[data-payment]")
    for bad in ({"from": "yesterday", "state": "bogus"}, {"to": "9999-12-31"}):
        page = admin.get("/payments", bad)
        assert "Enter dates as YYYY-MM-DD, from 1900 to 2200." in page.text and page.html.select(
            "tr[data-payment]"
        )
    admin.get("/payments/receipts/99999999999.pdf", status=404)
    admin.get(f"/payments/rates/{2**40}", status=404)

    export = admin.get("/payments/export.csv", {"state": "paid"})
    assert export.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(export.body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Date", "Receipt", "Payer"]
    assert rows[1][1:4] == ["1", "J. Jansen", "NL"]
    assert rows[1][6:13] == ["EUR", "41.32", "21", "8.68", "50.00", "0", "Paid"]
    assert len(admin.get("/payments/export.csv", {"state": "failed"}).body.splitlines()) == 1


def test_switched_off_the_past_payments_stay_readable(
    clinic, paid, dbsession, app, make_organisation, make_user, webtest, login
):
    set_enabled(app.registry.plugins, dbsession, clinic["org"], "payments", False)
    dbsession.flush()
    admin = clinic["admin"]
    page = admin.get("/payments")
    assert "Payments are switched off for your organisation" in page.text
    assert page.html.select("tr[data-payment]")
    assert admin.get("/payments/receipts/1.pdf").body.startswith(b"%PDF")
    assert "J. Jansen" in admin.get("/payments/export.csv").body.decode("utf-8-sig")
    # Only reading: the rest of the plugin is gone, and writing is refused.
    for path in ("/payments/rates", "/payments/settings", f"/pay/{clinic['appointment'].token}"):
        admin.get(path, status=404)
    post(admin, f"/payments/{paid.id}/refund", {"amount": "1"}, status=404)
    post(admin, "/payments", {}, status=404)
    assert 'href="/payments"' not in admin.get("/").text  # no menu entry: its hooks do not run
    # The client goes in without paying: the organisation switched payments off.
    assert is_waiting_room(webtest("pay").get(f"/c/{clinic['appointment'].token}"))
    # An organisation that never had payments has no archive.
    never = make_organisation("never")
    never_app = webtest("never")
    login(never_app, make_user(never, role=Role.org_admin))
    never_app.get("/payments", status=404)
    never_app.get("/payments/receipts/1.pdf", status=404)


def test_the_usage_report_shows_the_payments(clinic, paid, dbsession, make_user, webtest, login):
    # The report covers the days before today: the payment was yesterday.
    paid.paid_at = paid.paid_at - timedelta(days=1)
    dbsession.flush()
    page = clinic["admin"].get("/reports/usage")
    [row] = page.html.select(".payments-usage tr[data-currency]")
    assert [td.get_text() for td in row.select("td")] == ["EUR", "1", "€50.00", "€8.68", "€0.00"]
    # A department the appointment is not of has none.
    other = Department(organisation_id=clinic["org"].id, name="Physio")
    dbsession.add(other)
    dbsession.flush()
    admin = webtest("pay")
    login(admin, make_user(clinic["org"], role=Role.dept_admin, department=other))
    page = admin.get("/reports/usage")
    assert "No payments in these days." in page.html.select_one(".payments-usage").get_text()


def test_payments_stay_when_the_client_is_deleted(clinic, paid, dbsession):
    clinic["appointment"].starts_at -= timedelta(days=2)  # past: the client may go
    dbsession.flush()
    admin = clinic["admin"]
    post(admin, f"/clients/{clinic['client'].id}/delete", {}, status=303)
    dbsession.expire_all()
    assert clinic["appointment"].client_id is None
    [payment] = payments(dbsession)
    assert (payment.status, payment.payer_name, payment.appointment_id) == (
        Status.paid,
        "J. Jansen",
        clinic["appointment"].id,
    )
    assert "J. Jansen" in admin.get("/payments").text
    assert admin.get("/payments/receipts/1.pdf").body.startswith(b"%PDF")


def test_a_cancelled_paid_appointment_offers_the_refund(clinic, paid, dbsession, fake_stripe):
    admin = clinic["admin"]
    appointment = clinic["appointment"]
    page = post(admin, f"/appointments/{appointment.id}/cancel", {}, status=303).follow()
    block = page.html.select_one(".payments-appointment")
    button = block.select_one("form button")
    assert button.get_text(strip=True) == "Refund the cancelled appointment"
    assert block.select_one("input[name=amount]")["value"] == "50.00"
    form = next(f for f in page.forms.values() if "amount" in f.fields)
    form.submit().follow()
    assert payments(dbsession)[0].status is Status.refunded
    assert fake_stripe.refunds[0]["amount"] == 5000
