"""Paying before the waiting room in real Chromium (the payments plugin,
plugins/payments): the client opens the invitation link, is led to the
payment step, fills in who pays, pays on the fake Stripe's checkout page
(a fake Stripe API on loopback, which the server's real ``stripe`` SDK
talks to), comes back and enters the waiting room, where the practitioner
sees them marked "paid"."""

import json
from decimal import Decimal

import pytest
from consultroom_payments.models import Charge, ProviderAccount, Rate, VatRule
from payments_fakes import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from playwright.sync_api import expect

from consultroom.plugins.models import PluginEnablement
from consultroom.secretbox import box_from_settings


@pytest.fixture
def fake_stripe():
    with FakeStripe() as fake:
        yield fake


def test_the_client_pays_then_waits_and_shows_as_paid(
    live_data, start_live_server, fake_stripe, client_context, staff_context, log_in
):
    server = start_live_server(**{"payments.stripe_api_base": fake_stripe.url})
    org = live_data.organisation(name="Clinic")
    live_data._save(PluginEnablement(organisation_id=org.id, plugin="payments", enabled=True))
    live_data._save(VatRule(organisation_id=org.id, country="", kind="any", rate=Decimal("21")))
    rate = live_data._save(
        Rate(organisation_id=org.id, name="Consultation", amount=Decimal("60"), currency="EUR")
    )
    keys = json.dumps({"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}).encode()
    live_data._save(
        ProviderAccount(
            organisation_id=org.id,
            provider="stripe",
            config=box_from_settings(server.settings).encrypt(keys),
            active=True,
        )
    )
    doctor = live_data.user(org, name="Dr. Jansen")
    appointment = live_data.appointment(
        org,
        practitioner=doctor,
        client=live_data.client(org, last_name="Mulder", email="mulder@example.org"),
    )
    live_data._save(Charge(organisation_id=org.id, appointment_id=appointment.id, rate_id=rate.id))

    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(server.url(org.subdomain, "/waiting-room"))
    expect(staff.locator("[data-connection]")).to_have_attribute("data-state", "online")

    client = client_context.new_page()
    client.goto(server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(client.locator("h1")).to_have_text("Before the waiting room")
    expect(client.locator('[data-step="payments.pay"]')).to_contain_text("to do")
    client.get_by_role("link", name="Continue: Payment").click()

    client.get_by_label("Country").select_option("NL")
    client.get_by_role("button", name="Continue").click()
    expect(client.locator("[data-gross]")).to_have_text("€60.00")
    expect(client.locator("[data-vat]")).to_have_text("€10.41")
    client.get_by_role("button", name="Pay €60.00 with Stripe").click()

    client.wait_for_url(f"{fake_stripe.url}/checkout/**")
    expect(client.locator("h1")).to_have_text("Pay 60.00 EUR")
    expect(staff.locator(".waiting-entry")).to_have_count(0)
    client.get_by_role("button", name="Pay now").click()

    expect(client.locator("[data-waiting-page]")).to_be_visible()
    expect(client.locator("[data-connection]")).to_have_attribute("data-state", "online")
    assert client.url.endswith(f"/c/{appointment.token}")
    entry = staff.locator(".waiting-entry", has_text="Mulder")
    expect(entry).to_be_visible()
    expect(entry.locator(".badge-ok")).to_have_text("paid")
    [key] = {key for key, _form in fake_stripe.creates}
    assert key and len(fake_stripe.sessions) == 1
