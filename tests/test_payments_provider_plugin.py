# ruff: noqa: F811 (the fixtures imported from test_payments_pay are arguments here)
"""A payment provider as a plugin of its own (the test plugin
tests/plugins/acmepay, a real installed distribution implementing the
payments plugin's hook ``consultroom_payments_providers``): where the
organisation enabled it, its admins set it up under Providers and clients
pay with it, through the same step, return and webhook as Stripe's; where
it is not enabled, it is offered nowhere."""

import json

from consultroom_acmepay import signature
from consultroom_payments.models import Status
from test_payments_pay import charge, clinic, fake_stripe, payments, quote  # noqa: F401 (fixtures)

from consultroom.plugins import set_enabled

from clients_support import post

SECRET = "acme-secret-of-the-clinic"


def acme_form(page):
    return next(
        f for f in page.forms.values() if f.fields.get("provider", [None])[0].value == "acmepay"
    )


def test_a_provider_plugin_is_offered_only_where_enabled(clinic, enable_plugin, dbsession, webtest):
    admin = clinic["admin"]
    assert admin.get("/payments/providers").html.select('[data-provider="acmepay"]') == []
    post(admin, "/payments/providers/acmepay", {"secret": SECRET, "active": "y"}, status=404)
    enable_plugin(clinic["org"], "acmepay")
    assert admin.get("/payments/providers").html.select('[data-provider="acmepay"]')
    post(admin, "/payments/providers/acmepay", {"secret": SECRET, "active": "y"})

    charge(dbsession, clinic)
    app = webtest("pay")
    token = clinic["appointment"].token
    page = quote(app, token)
    assert "Pay €50.00 with AcmePay" in page.text
    checkout = acme_form(page).submit(status=303).follow()
    acme = checkout.html.select_one("[data-payments-go]")["href"]
    assert acme.startswith("/acmepay/checkout?")
    back = app.get(acme).forms[0].submit(status=303)
    [payment] = payments(dbsession)
    assert payment.provider == "acmepay" and payment.status is Status.pending
    assert app.get(back.location, status=303).location.endswith(f"/c/{token}")
    assert payments(dbsession)[0].status is Status.paid

    # Its webhook goes through the same door; a replay changes nothing, a forgery is refused.
    body = json.dumps({"id": "evt-1", "ref": payment.provider_ref})
    headers = {"Acme-Signature": signature(SECRET, body), "Content-Type": "application/json"}
    app.post("/payments/webhook/acmepay", body, headers=headers)
    app.post("/payments/webhook/acmepay", body, headers={"Acme-Signature": "x"}, status=400)

    # Switched off for the organisation: gone from the payment page and the webhook.
    set_enabled(app.app.registry.plugins, dbsession, clinic["org"], "acmepay", False)
    dbsession.flush()
    assert admin.get("/payments/providers").html.select('[data-provider="acmepay"]') == []
    app.post("/payments/webhook/acmepay", body, headers=headers, status=404)
    app.get(acme, status=404)
