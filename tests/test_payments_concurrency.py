"""A double click on "pay" that reaches two server processes at the same
moment (the payments plugin, plugins/payments): both posts carry the same
attempt, so one payment is stored and one Checkout Session made at the fake
Stripe (tests/payments_fakes.py, the servers' real ``stripe`` SDK pointed at
it), and both clicks lead to the same checkout. Real ``pserve`` processes
sharing one database (SQLite or PostgreSQL), as realtime_support runs them."""

import json
import re
import threading
from decimal import Decimal

import pytest
from consultroom_payments.models import Charge, Payment, ProviderAccount, Rate, VatRule
from payments_fakes import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from sqlalchemy import select

from consultroom.plugins.models import PluginEnablement
from consultroom.secretbox import box_from_settings

from realtime_support import Browser, Server, database_url

HIDDEN = re.compile(rb'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def stripe_and_servers(tmp_path):
    with FakeStripe() as fake:
        url, drop = database_url(tmp_path)
        server = Server(
            tmp_path, url, processes=2, settings={"payments.stripe_api_base": fake.url}
        ).start()
        yield fake, server
        server.stop()
        server.engine.dispose()
        drop()


def paid_appointment(server):
    org = server.organisation()
    server.add(PluginEnablement(organisation_id=org.id, plugin="payments", enabled=True))
    server.add(VatRule(organisation_id=org.id, country="", kind="any", rate=Decimal("21")))
    rate = server.add(
        Rate(organisation_id=org.id, name="Consultation", amount=Decimal("50"), currency="EUR")
    )
    keys = json.dumps({"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}).encode()
    box = box_from_settings({"session.secret": server.secret})
    server.add(
        ProviderAccount(
            organisation_id=org.id, provider="stripe", config=box.encrypt(keys), active=True
        )
    )
    appointment = server.appointment(org, server.user(org))
    server.add(Charge(organisation_id=org.id, appointment_id=appointment.id, rate_id=rate.id))
    return org, appointment


def the_pay_form(browser, token):
    """The hidden fields of the quote's "pay with Stripe" form."""
    status, _headers, page = browser.request(f"/pay/{token}")
    assert status == 200, page
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    details = {"csrf_token": csrf, "name": "J. Jansen", "email": "j@example.org", "country": "NL"}
    status, _headers, page = browser.request(f"/pay/{token}", details)
    assert status == 200, page
    form = page[page.index(b'class="payments-provider"') :]
    return {name.decode(): value.decode() for name, value in HIDDEN.findall(form)}


def test_two_clicks_on_two_processes_make_one_payment(stripe_and_servers):
    fake, server = stripe_and_servers
    org, appointment = paid_appointment(server)
    first = Browser(server.ports[0], org)
    fields = the_pay_form(first, appointment.token)
    assert fields["amount"] == "50.00" and fields["provider"] == "stripe"
    second = Browser(server.ports[1], org)
    second.cookies = dict(first.cookies)  # the same browser, another process behind the balancer

    start = threading.Barrier(2)
    answers = []

    def click(browser):
        start.wait()
        answers.append(browser.request(f"/pay/{appointment.token}/start", fields))

    threads = [threading.Thread(target=click, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _h, _b in answers] == [303, 303]
    go = f"/pay/{appointment.token}/go?attempt={fields['attempt']}"
    assert all(headers["Location"].endswith(go) for _s, headers, _b in answers)
    [payment] = server.query(select(Payment.attempt, Payment.provider_ref))
    assert payment.attempt == fields["attempt"]
    assert list(fake.sessions) == [payment.provider_ref]
