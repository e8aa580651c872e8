"""Stripe through its official SDK: a Checkout Session per attempt (the
attempt is the idempotency key), its state asked on the client's return,
webhooks verified by the SDK (signature and timestamp tolerance), refunds
of the session's payment intent.

The API's address is Stripe's unless the installation's setting
``payments.stripe_api_base`` (or ``stripe.api_base``) says otherwise: the
tests point it at a fake Stripe on loopback.
"""

import logging
from decimal import Decimal

import stripe

from consultroom.tenancy.options import OptionSet, TextOption
from consultroom_payments.i18n import _
from consultroom_payments.money import from_minor_units, minor_units
from consultroom_payments.provider import (
    FAILED,
    PAID,
    PENDING,
    Checkout,
    Outcome,
    ProviderError,
    WebhookRefused,
)

log = logging.getLogger(__name__)
TOLERANCE_SECONDS = 300
PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
FAILED_EVENTS = ("checkout.session.async_payment_failed", "checkout.session.expired")


def _session_outcome(session, event_id=""):
    """The Outcome of a Checkout Session (a dict)."""
    if session.get("payment_status") in ("paid", "no_payment_required"):
        state = PAID
    elif session.get("status") == "expired":
        state = FAILED
    else:
        state = PENDING
    amount = session.get("amount_total")
    return Outcome(
        session["id"],
        state,
        event_id,
        amount=None if amount is None else from_minor_units(amount, session["currency"].upper()),
        currency=(session.get("currency") or "").upper(),
    )


class StripeProvider:
    id = "stripe"
    label = "Stripe"
    options = OptionSet(
        (
            TextOption(
                "secret_key",
                _("Secret key"),
                secret=True,
                max_length=200,
                help=_("From the Stripe dashboard: Developers, API keys (sk_live_...)."),
            ),
            TextOption(
                "webhook_secret",
                _("Webhook signing secret"),
                secret=True,
                max_length=200,
                help=_(
                    "Of the webhook endpoint you add in Stripe for this site's address"
                    " /payments/webhook/stripe (whsec_...)."
                ),
            ),
        )
    )

    def _client(self, request, config):
        if not config.get("secret_key"):
            raise ProviderError(_("Stripe is not set up completely: the secret key is missing."))
        base = request.registry.settings.get("payments.stripe_api_base") or stripe.api_base
        return stripe.StripeClient(config["secret_key"], base_addresses={"api": base})

    def start(self, request, config, payment, return_url, cancel_url):
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": minor_units(payment.gross, payment.currency),
                        "product_data": {"name": payment.rate_name},
                    },
                }
            ],
            "success_url": return_url,
            "cancel_url": cancel_url,
            "client_reference_id": payment.attempt,
            "customer_email": payment.payer_email,
        }
        try:
            session = self._client(request, config).v1.checkout.sessions.create(
                params=params, options={"idempotency_key": payment.attempt}
            )
        except stripe.StripeError as exc:
            log.warning("stripe: checkout session refused: %s", type(exc).__name__)
            raise ProviderError(
                _("Stripe could not start the payment: please try again.")
            ) from None
        return Checkout(session.id, session.url)

    def check(self, request, config, payment):
        try:
            session = self._client(request, config).v1.checkout.sessions.retrieve(
                payment.provider_ref
            )
        except stripe.StripeError as exc:
            log.warning("stripe: session not read: %s", type(exc).__name__)
            raise ProviderError(_("Stripe could not be asked about the payment.")) from None
        return _session_outcome(session.to_dict())

    def webhook(self, request, config):
        try:
            event = stripe.Webhook.construct_event(
                request.body,
                request.headers.get("Stripe-Signature"),
                config.get("webhook_secret") or "",
                tolerance=TOLERANCE_SECONDS,
            )
        except (stripe.SignatureVerificationError, ValueError):
            raise WebhookRefused() from None
        event = event.to_dict()
        if event["type"] not in PAID_EVENTS + FAILED_EVENTS:
            return []
        session = event["data"]["object"]
        outcome = _session_outcome(session, event["id"])
        if event["type"] in FAILED_EVENTS:
            return [Outcome(outcome.ref, FAILED, event["id"])]
        return [outcome]

    def refund(self, request, config, payment, amount: Decimal):
        client = self._client(request, config)
        try:
            session = client.v1.checkout.sessions.retrieve(payment.provider_ref)
            refund = client.v1.refunds.create(
                params={
                    "payment_intent": session["payment_intent"],
                    "amount": minor_units(amount, payment.currency),
                }
            )
        except stripe.StripeError as exc:
            log.warning("stripe: refund refused: %s", type(exc).__name__)
            raise ProviderError(_("Stripe refused the refund.")) from None
        return refund.id
