"""PayPal through its official server SDK (``paypal-server-sdk``): an Order
(Orders v2, intent CAPTURE) per attempt, the attempt as PayPal-Request-Id;
the client approves it at PayPal (with an account, or as a guest with a
card) and comes back, where the order is captured (or on PayPal's
CHECKOUT.ORDER.APPROVED webhook, if it comes first: one capture request id
per order, so it is captured once); webhooks are verified by PayPal's own
API (verify-webhook-signature) before they count; refunds of the capture.

The API's address is PayPal's (live, or the sandbox with the organisation's
"sandbox" setting) unless the installation's setting
``payments.paypal_base_url`` says otherwise: the tests point it at a fake
PayPal on loopback.
"""

import json
import logging
from decimal import Decimal

import requests
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from paypalserversdk.configuration import Configuration, Environment, Server
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
from paypalserversdk.models.money import Money
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.payment_source import PaymentSource
from paypalserversdk.models.paypal_experience_landing_page import PaypalExperienceLandingPage
from paypalserversdk.models.paypal_experience_user_action import PaypalExperienceUserAction
from paypalserversdk.models.paypal_wallet import PaypalWallet
from paypalserversdk.models.paypal_wallet_experience_context import (
    PaypalWalletExperienceContext,
)
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from consultroom.tenancy.options import BoolOption, OptionSet, TextOption
from consultroom_payments.i18n import _
from consultroom_payments.money import rounded
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
TIMEOUT = 20
# Webhook headers PayPal signs with, and the verify call's names for them.
SIGNATURE_HEADERS = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}


def _decimal(text):
    return Decimal(str(text))


def _capture(order):
    """The first capture of an order (an SDK Order), or None."""
    for unit in order.purchase_units or ():
        payments = getattr(unit, "payments", None)
        for capture in getattr(payments, "captures", None) or ():
            return capture
    return None


class PayPalProvider:
    id = "paypal"
    label = "PayPal"
    options = OptionSet(
        (
            TextOption("client_id", _("Client ID"), max_length=200),
            TextOption("client_secret", _("Secret"), secret=True, max_length=200),
            TextOption(
                "webhook_id",
                _("Webhook ID"),
                max_length=100,
                help=_(
                    "Of the webhook you add in PayPal for this site's address"
                    " /payments/webhook/paypal."
                ),
            ),
            BoolOption("sandbox", _("PayPal sandbox (test payments)")),
        )
    )

    def _configuration(self, request, config):
        if not (config.get("client_id") and config.get("client_secret")):
            raise ProviderError(
                _("PayPal is not set up completely: the client ID or secret is missing.")
            )
        environment = Environment.SANDBOX if config.get("sandbox") else Environment.PRODUCTION
        configuration = Configuration(
            environment=environment,
            timeout=TIMEOUT,
            client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                o_auth_client_id=config["client_id"],
                o_auth_client_secret=config["client_secret"],
            ),
        )
        base = request.registry.settings.get("payments.paypal_base_url")
        if base:
            configuration.environments = {environment: {Server.DEFAULT: base}}
        return configuration

    def _client(self, request, config):
        return PaypalServersdkClient(config=self._configuration(request, config))

    def _call(self, what, action):
        try:
            return action().body
        except (ApiException, AuthValidationException) as exc:
            log.warning("paypal: %s refused (%s)", what, getattr(exc, "response_code", "auth"))
            raise ProviderError(_("PayPal refused: please try again.")) from None
        except requests.RequestException as exc:
            log.warning("paypal: %s failed: %s", what, type(exc).__name__)
            raise ProviderError(_("PayPal could not be reached: please try again.")) from None

    def start(self, request, config, payment, return_url, cancel_url):
        body = OrderRequest(
            intent=CheckoutPaymentIntent.CAPTURE,
            purchase_units=[
                PurchaseUnitRequest(
                    amount=AmountWithBreakdown(
                        currency_code=payment.currency, value=str(payment.gross)
                    ),
                    custom_id=payment.attempt,
                    description=payment.rate_name[:127],
                )
            ],
            payment_source=PaymentSource(
                paypal=PaypalWallet(
                    experience_context=PaypalWalletExperienceContext(
                        return_url=return_url,
                        cancel_url=cancel_url,
                        landing_page=PaypalExperienceLandingPage.NO_PREFERENCE,
                        user_action=PaypalExperienceUserAction.PAY_NOW,
                        shipping_preference="NO_SHIPPING",
                    )
                )
            ),
        )
        order = self._call(
            "create order",
            lambda: self._client(request, config).orders.create_order(
                {
                    "body": body,
                    "paypal_request_id": payment.attempt,
                    "prefer": "return=representation",
                }
            ),
        )
        approve = next(
            (link.href for link in order.links or () if link.rel in ("payer-action", "approve")),
            None,
        )
        if approve is None:
            raise ProviderError(_("PayPal did not say where to pay."))
        return Checkout(order.id, approve)

    def check(self, request, config, payment):
        return self._outcome(self._captured(request, config, payment.provider_ref))

    def _captured(self, request, config, order_id):
        """The order, captured first when the client approved it. One
        capture request id per order: PayPal captures it once, whether the
        client's return or the approval's webhook asks first."""
        client = self._client(request, config)
        order = self._call("get order", lambda: client.orders.get_order({"id": order_id}))
        if order.status == "APPROVED":
            order = self._call(
                "capture order",
                lambda: client.orders.capture_order(
                    {
                        "id": order_id,
                        "paypal_request_id": f"capture-{order_id}",
                        "prefer": "return=representation",
                    }
                ),
            )
        return order

    def _outcome(self, order):
        capture = _capture(order)
        if order.status == "COMPLETED" and capture is not None:
            if capture.status == "COMPLETED":
                return Outcome(
                    order.id,
                    PAID,
                    amount=_decimal(capture.amount.value),
                    currency=capture.amount.currency_code,
                )
            if capture.status in ("DECLINED", "FAILED"):
                return Outcome(order.id, FAILED)
        if order.status == "VOIDED":
            return Outcome(order.id, FAILED)
        return Outcome(order.id, PENDING)

    def webhook(self, request, config):
        try:
            event = json.loads(request.body)
        except ValueError:
            raise WebhookRefused() from None
        if not isinstance(event, dict) or not self._verified(request, config, event):
            raise WebhookRefused()
        resource = event.get("resource") or {}
        if event.get("event_type") == "CHECKOUT.ORDER.APPROVED" and resource.get("id"):
            # Approved, and the client may never come back: capture now.
            try:
                return [self._outcome(self._captured(request, config, str(resource["id"])))]
            except ProviderError:
                return []  # PayPal sends the event again
        order_id = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get(
            "order_id"
        )
        if not order_id:
            return []
        if event.get("event_type") == "PAYMENT.CAPTURE.COMPLETED":
            amount = resource.get("amount") or {}
            return [
                Outcome(
                    order_id,
                    PAID,
                    event.get("id", ""),
                    amount=_decimal(amount.get("value", "0")),
                    currency=amount.get("currency_code", ""),
                )
            ]
        if event.get("event_type") in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
            return [Outcome(order_id, FAILED, event.get("id", ""))]
        return []

    def _verified(self, request, config, event):
        """Whether PayPal's verify-webhook-signature says this call is
        PayPal's, for this organisation's webhook."""
        if not config.get("webhook_id"):
            return False
        body = {name: request.headers.get(header, "") for name, header in SIGNATURE_HEADERS.items()}
        body.update(webhook_id=config["webhook_id"], webhook_event=event)
        configuration = self._configuration(request, config)
        client = PaypalServersdkClient(config=configuration)
        try:
            token = client.oauth_2.fetch_token()
            answer = requests.post(
                configuration.get_base_uri() + "/v1/notifications/verify-webhook-signature",
                json=body,
                headers={"Authorization": f"Bearer {token.access_token}"},
                timeout=TIMEOUT,
            )
        except (ApiException, AuthValidationException, requests.RequestException) as exc:
            log.warning("paypal: webhook not verified: %s", type(exc).__name__)
            return False
        return answer.ok and answer.json().get("verification_status") == "SUCCESS"

    def refund(self, request, config, payment, amount):
        client = self._client(request, config)
        order = self._call(
            "get order", lambda: client.orders.get_order({"id": payment.provider_ref})
        )
        capture = _capture(order)
        if capture is None:
            raise ProviderError(_("PayPal has no captured payment to refund."))
        value = str(rounded(amount, payment.currency))
        refund = self._call(
            "refund",
            lambda: client.payments.refund_captured_payment(
                {
                    "capture_id": capture.id,
                    "body": RefundRequest(
                        amount=Money(currency_code=payment.currency, value=value)
                    ),
                }
            ),
        )
        return refund.id
