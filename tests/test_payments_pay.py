"""Paying before the waiting room with the payments plugin (plugins/payments)
and Stripe through the real ``stripe`` SDK against a fake Stripe on loopback
(tests/payments_fakes.py): staff choose a rate on the appointment form; the
client's link shows "Payment" as a step until it is paid; the price is the
server's (a changed amount is refused); a double click makes one Checkout
Session; the return and the webhook, in either order, pay it once; a bad
signature, an old timestamp and a replay change nothing; another amount
paid at Stripe is no payment. Provider keys are stored encrypted and never
shown back."""

import time
from decimal import Decimal

import pytest
import stripe
from consultroom_payments import accounts
from consultroom_payments.models import Charge, Payment, ProviderAccount, Rate, Status
from payments_fakes import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, stripe_signature
from pyramid.testing import DummyRequest
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.db import utcnow

from clients_support import errors, make_client, post


@pytest.fixture
def fake_stripe(monkeypatch):
    with FakeStripe() as fake:
        monkeypatch.setattr(stripe, "api_base", fake.url)
        yield fake


def set_up_payments(app):
    """An organisation admin's set-up through the pages: settings, VAT, a
    rate of 50 euros including VAT, and Stripe."""
    data = {"country": "NL", "vat_number": "NL123456789B01", "prices_include_vat": "y"}
    post(app, "/payments/settings", {**data, "reverse_charge": "y"})
    post(app, "/payments/vat", {"country": "NL", "kind": "any", "rate": "21"})
    post(app, "/payments/vat", {"country": "", "kind": "any", "rate": "0"})
    post(app, "/payments/rates", {"name": "Consultation", "amount": "50.00", "currency": "EUR"})
    keys = {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET, "active": "y"}
    post(app, "/payments/providers/stripe", keys)


@pytest.fixture
def clinic(make_organisation, make_user, enable_plugin, dbsession, webtest, login, fake_stripe):
    org = make_organisation("pay", name="Clinic Pay")
    other = make_organisation("other")
    enable_plugin(org, "payments")
    enable_plugin(other, "payments")
    admin = webtest("pay")
    login(admin, make_user(org, role=Role.org_admin))
    set_up_payments(admin)
    doctor = make_user(org, role=Role.practitioner, name="Dr. Smit")
    client = make_client(dbsession, org, "Jansen", initials="J.", email="j@example.org")
    appointment = Appointment(
        organisation_id=org.id,
        client=client,
        practitioner=doctor,
        starts_at=utcnow().replace(second=0, microsecond=0),
        duration_minutes=20,
    )
    dbsession.add(appointment)
    dbsession.flush()
    [rate_id] = dbsession.scalars(select(Charge.rate_id).limit(0)).all() or [None]
    return {
        "org": org,
        "other": other,
        "admin": admin,
        "doctor": doctor,
        "client": client,
        "appointment": appointment,
        "rate_id": rate_id,
    }


def charge(dbsession, clinic):
    rate = dbsession.scalar(select(Rate).where(Rate.organisation_id == clinic["org"].id))
    dbsession.add(
        Charge(
            organisation_id=clinic["org"].id,
            appointment_id=clinic["appointment"].id,
            rate_id=rate.id,
        )
    )
    dbsession.flush()
    return rate


def payments(dbsession):
    dbsession.expire_all()
    return dbsession.scalars(select(Payment).order_by(Payment.id)).all()


def is_waiting_room(page):
    return page.html.find(id="realtime-config") is not None


def quote(app, token, **details):
    page = app.get(f"/pay/{token}")
    form = next(f for f in page.forms.values() if "country" in f.fields)
    form["country"] = details.get("country", "NL")
    if details.get("vat_number"):
        form["business"] = True
        form["vat_number"] = details["vat_number"]
    return form.submit(status="*")


def provider_link(started):
    """Where the client is sent to pay, from the "pay" button's answer."""
    page = started.follow()
    assert page.html.select_one('script[src="/payments-static/go.js"]') is not None
    return page.html.select_one("[data-payments-go]")["href"]


def pay_form(page):
    return next(f for f in page.forms.values() if f.fields.get("provider"))


def test_staff_choose_a_rate_on_the_appointment_form(clinic, webtest, login, dbsession):
    app = webtest("pay")
    login(app, clinic["doctor"])
    page = app.get("/appointments/new")
    options = [o.get_text() for o in page.html.select("#payments_rate option")]
    assert options == ["Free", "Consultation (€50.00)"]
    rate_value = page.html.select("#payments_rate option")[1]["value"]
    data = {
        "client_id": clinic["client"].id,
        "practitioner_id": clinic["doctor"].id,
        "date": "2030-06-10",
        "start_time": "10:00",
        "duration_minutes": "20",
        "message": "",
    }
    # Another organisation's or a made-up rate: refused, nothing written.
    for bad in ("999999", "x"):
        page = post(app, "/appointments/new", {**data, "payments_rate": bad}, status=200)
        assert "Choose one of the rates, or free." in page.text
    assert dbsession.scalars(select(Charge)).all() == []
    post(app, "/appointments/new", {**data, "payments_rate": rate_value})
    [made] = dbsession.scalars(select(Charge)).all()
    assert str(made.rate_id) == rate_value
    edit = app.get(f"/appointments/{made.appointment_id}/edit")
    assert edit.html.select_one("#payments_rate option[selected]")["value"] == rate_value


def test_the_edit_form_shown_again_with_an_error_reads_the_charge_once(
    clinic, webtest, login, dbsession, statements
):
    rate = charge(dbsession, clinic)
    app = webtest("pay")
    login(app, clinic["doctor"])
    data = {
        "client_id": clinic["client"].id,
        "practitioner_id": clinic["doctor"].id,
        "date": "2030-06-10",
        "start_time": "10:00",
        "duration_minutes": "-5",  # refused
        "message": "",
        "payments_rate": str(rate.id),
    }
    url = f"/appointments/{clinic['appointment'].id}/edit"
    app.get(url)
    statements.clear()
    page = post(app, url, data, status=200)
    assert errors(page)
    assert page.html.select_one("#payments_rate option[selected]")["value"] == str(rate.id)
    assert len([sql for sql in statements if "FROM payments_charge" in sql]) == 1


def test_the_link_shows_the_payment_step_until_paid(clinic, webtest, dbsession, fake_stripe):
    app = webtest("pay")
    token = clinic["appointment"].token
    assert is_waiting_room(app.get(f"/c/{token}"))  # free: straight in
    charge(dbsession, clinic)
    page = app.get(f"/c/{token}")
    assert not is_waiting_room(page)
    [step] = page.html.select("[data-step]")
    assert (step["data-step"], step["data-done"]) == ("payments.pay", "no")
    assert step.a["href"] == f"/pay/{token}"

    page = quote(app, token)
    assert page.html.select_one("[data-gross]").get_text(strip=True) == "€50.00"
    assert page.html.select_one("[data-vat]").get_text(strip=True) == "€8.68"
    assert page.html.select_one("[data-net]").get_text(strip=True) == "€41.32"
    checkout = pay_form(page).submit(status=303)
    [session_id] = fake_stripe.sessions
    assert provider_link(checkout) == fake_stripe.sessions[session_id]["url"]
    [payment] = payments(dbsession)
    assert (payment.status, payment.gross, payment.provider_ref) == (
        Status.pending,
        Decimal("50.00"),
        session_id,
    )
    assert fake_stripe.creates[0][0] == payment.attempt  # the idempotency key
    assert fake_stripe.creates[0][1]["line_items[0][price_data][unit_amount]"] == "5000"
    assert not is_waiting_room(app.get(f"/c/{token}"))  # not paid yet

    fake_stripe.pay(session_id)
    back = app.get(f"/pay/{token}/return", {"attempt": payment.attempt}, status=303)
    assert back.location.endswith(f"/c/{token}")
    assert payments(dbsession)[0].status is Status.paid
    assert is_waiting_room(app.get(f"/c/{token}"))
    # The pay page now sends the client on.
    assert app.get(f"/pay/{token}", status=303).location.endswith(f"/c/{token}")


def test_reverse_charge_for_an_eu_business(clinic, webtest, dbsession):
    charge(dbsession, clinic)
    page = quote(
        webtest("pay"), clinic["appointment"].token, country="DE", vat_number="de 123456789"
    )
    assert page.html.select_one("[data-gross]").get_text(strip=True) == "€41.32"
    assert "reverse charge" in page.html.select_one(".payments-price").get_text()
    bad = quote(webtest("pay"), clinic["appointment"].token, country="DE", vat_number="DE12")
    assert bad.status_int == 400 and "not a VAT number of your country" in bad.text


def test_a_double_click_makes_one_checkout_session(clinic, webtest, dbsession, fake_stripe):
    charge(dbsession, clinic)
    app = webtest("pay")
    form = pay_form(quote(app, clinic["appointment"].token))
    first = form.submit(status=303)
    second = form.submit(status=303)
    assert provider_link(first) == provider_link(second)
    assert len(payments(dbsession)) == 1
    assert len(fake_stripe.sessions) == 1 and len(fake_stripe.creates) == 1


def test_an_amount_changed_in_the_browser_is_refused(clinic, webtest, dbsession, fake_stripe):
    charge(dbsession, clinic)
    app = webtest("pay")
    form = pay_form(quote(app, clinic["appointment"].token))
    form["amount"] = "0.50"
    page = form.submit(status=400)
    assert "The amount to pay is not what was posted" in page.text
    assert payments(dbsession) == [] and fake_stripe.creates == []
    form["amount"], form["currency"] = "50.00", "USD"
    form.submit(status=400)
    assert payments(dbsession) == []


def _paid_session(clinic, webtest, dbsession, fake_stripe):
    charge(dbsession, clinic)
    app = webtest("pay")
    pay_form(quote(app, clinic["appointment"].token)).submit(status=303)
    [session_id] = fake_stripe.sessions
    fake_stripe.pay(session_id)
    return app, session_id


def webhook(app, body, signature, status=200):
    headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
    return app.post("/payments/webhook/stripe", body, headers=headers, status=status)


def test_the_webhook_before_the_return_pays_once(clinic, webtest, dbsession, fake_stripe):
    app, session_id = _paid_session(clinic, webtest, dbsession, fake_stripe)
    body = fake_stripe.event(session_id)
    webhook(app, body, stripe_signature(body))
    [payment] = payments(dbsession)
    assert payment.status is Status.paid
    paid_at = payment.paid_at
    webhook(app, body, stripe_signature(body))  # a replay (or Stripe's retry)
    token = clinic["appointment"].token
    app.get(f"/pay/{token}/return", {"attempt": payment.attempt}, status=303)
    [payment] = payments(dbsession)
    assert (payment.status, payment.paid_at) == (Status.paid, paid_at)


def test_the_return_before_the_webhook_pays_once(clinic, webtest, dbsession, fake_stripe):
    app, session_id = _paid_session(clinic, webtest, dbsession, fake_stripe)
    [payment] = payments(dbsession)
    app.get(f"/pay/{clinic['appointment'].token}/return", {"attempt": payment.attempt})
    paid_at = payments(dbsession)[0].paid_at
    body = fake_stripe.event(session_id)
    webhook(app, body, stripe_signature(body))
    assert (payments(dbsession)[0].status, payments(dbsession)[0].paid_at) == (Status.paid, paid_at)


def test_bad_signature_and_old_timestamp_are_refused(clinic, webtest, dbsession, fake_stripe):
    app, session_id = _paid_session(clinic, webtest, dbsession, fake_stripe)
    body = fake_stripe.event(session_id)
    webhook(app, body, stripe_signature(body, secret="whsec_wrong"), status=400)
    webhook(app, body, stripe_signature(body, timestamp=int(time.time()) - 3600), status=400)
    webhook(app, body, "", status=400)
    webhook(app, body.replace(b"cs_test", b"cs_TEST"), stripe_signature(body), status=400)
    assert payments(dbsession)[0].status is Status.pending
    # Another organisation's webhook address knows no such payment.
    other = webtest("other")
    webhook(other, body, stripe_signature(body), status=404)  # Stripe is not set up there
    assert payments(dbsession)[0].status is Status.pending


def test_another_amount_paid_at_stripe_is_no_payment(clinic, webtest, dbsession, fake_stripe):
    app, session_id = _paid_session(clinic, webtest, dbsession, fake_stripe)
    fake_stripe.pay(session_id, amount=50)  # 0.50 EUR
    [payment] = payments(dbsession)
    page = app.get(f"/pay/{clinic['appointment'].token}/return", {"attempt": payment.attempt})
    assert "did not go through" in page.text
    assert payments(dbsession)[0].status is Status.failed
    assert not is_waiting_room(app.get(f"/c/{clinic['appointment'].token}"))


def test_the_return_of_another_appointment_or_attempt_is_404(
    clinic, webtest, dbsession, fake_stripe
):
    app, _session_id = _paid_session(clinic, webtest, dbsession, fake_stripe)
    token = clinic["appointment"].token
    app.get(f"/pay/{token}/return", {"attempt": "x" * 32}, status=404)
    webtest("other").get(f"/pay/{token}", status=404)


def test_keys_are_encrypted_and_never_shown_back(clinic, dbsession):
    admin = clinic["admin"]
    page = admin.get("/payments/providers")
    assert SECRET_KEY not in page.text and WEBHOOK_SECRET not in page.text
    [row] = dbsession.scalars(select(ProviderAccount)).all()
    assert SECRET_KEY.encode() not in row.config
    # An empty key field keeps the stored key.
    post(
        admin, "/payments/providers/stripe", {"secret_key": "", "webhook_secret": "", "active": "y"}
    )
    dbsession.expire_all()
    request = DummyRequest()
    request.registry = admin.app.registry
    request.organisation, request.dbsession = clinic["org"], dbsession
    assert accounts.stored_config(request, "stripe") == {
        "secret_key": SECRET_KEY,
        "webhook_secret": WEBHOOK_SECRET,
    }
    admin.get("/payments/providers/stripe", status=404)  # POST only
    post(admin, "/payments/providers/nope", {}, status=404)


def test_a_bad_provider_setting_is_refused_and_nothing_saved(clinic, dbsession):
    admin = clinic["admin"]
    before = dbsession.scalars(select(ProviderAccount.config)).all()
    page = post(admin, "/payments/providers/stripe", {"secret_key": "k" * 201}, status=400)
    assert errors(page)["secret_key"]
    dbsession.expire_all()
    assert dbsession.scalars(select(ProviderAccount.config)).all() == before


def test_an_expired_checkout_fails_the_payment(clinic, webtest, dbsession, fake_stripe):
    charge(dbsession, clinic)
    app = webtest("pay")
    pay_form(quote(app, clinic["appointment"].token)).submit(status=303)
    [session_id] = fake_stripe.sessions
    fake_stripe.sessions[session_id]["status"] = "expired"
    body = fake_stripe.event(session_id, kind="checkout.session.expired")
    webhook(app, body, stripe_signature(body))
    assert payments(dbsession)[0].status is Status.failed
    # The client starts again: a new attempt, a new session.
    pay_form(quote(app, clinic["appointment"].token)).submit(status=303)
    assert [p.status for p in payments(dbsession)] == [Status.failed, Status.pending]
    assert len(fake_stripe.sessions) == 2
