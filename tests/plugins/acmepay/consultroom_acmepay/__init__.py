"""AcmePay, a payment provider for the payments plugin written as a third
party's plugin would be (docs/plugins.md, "Payment providers"): it
implements the payments plugin's own hook ``consultroom_payments_providers``
and is enabled per organisation beside payments.

Its "payment service" is its own page: the checkout address is a route of
this plugin where the client presses "Pay", which sends them back with the
order signed by the organisation's AcmePay secret (HMAC-SHA256); the return
checks that signature, and the webhook checks the one in its header."""

import hashlib
import hmac
import json

from consultroom_payments.accounts import stored_config
from consultroom_payments.provider import PAID, PENDING, Checkout, Outcome, WebhookRefused
from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.view import view_config

from consultroom.hookspecs import hookimpl
from consultroom.plugins import PluginInfo
from consultroom.tenancy.options import OptionSet, TextOption

plugin = PluginInfo(
    name="AcmePay",
    description="Payments through AcmePay (a test provider).",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
)


def signature(secret, text):
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class AcmePay:
    id = "acmepay"
    label = "AcmePay"
    options = OptionSet((TextOption("secret", "AcmePay secret", secret=True, max_length=100),))

    def start(self, request, config, payment, return_url, cancel_url):
        ref = f"acme-{payment.attempt}"
        url = request.route_path("acmepay.checkout", _query={"ref": ref, "back": return_url})
        return Checkout(ref, url)

    def check(self, request, config, payment):
        signed = request.GET.get("acme_sig", "")
        good = hmac.compare_digest(signed, signature(config["secret"], payment.provider_ref))
        return Outcome(payment.provider_ref, PAID if good else PENDING)

    def webhook(self, request, config):
        given = request.headers.get("Acme-Signature", "")
        if not hmac.compare_digest(given, signature(config["secret"], request.text)):
            raise WebhookRefused()
        event = json.loads(request.text)
        return [Outcome(event["ref"], PAID, event["id"])]

    def refund(self, request, config, payment, amount):
        return f"refund-{payment.provider_ref}-{amount}"


@hookimpl
def consultroom_payments_providers(request):
    return [AcmePay()]


@view_config(route_name="acmepay.checkout", renderer="consultroom_acmepay:templates/checkout.html")
def checkout(request):
    """AcmePay's own payment page: "Pay" signs the order and goes back."""
    ref, back = request.params.get("ref", ""), request.params.get("back", "")
    if not back.startswith(request.application_url + "/"):
        raise HTTPBadRequest()  # back to this site only
    if request.method == "POST":
        secret = (stored_config(request, AcmePay.id) or {}).get("secret", "")
        return HTTPSeeOther(f"{back}&acme_sig={signature(secret, ref)}")
    return {"ref": ref, "back": back}


def includeme(config):
    config.add_plugin_route("acmepay.checkout", "/acmepay/checkout")
    config.scan()
