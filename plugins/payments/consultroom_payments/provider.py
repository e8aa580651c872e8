"""What a payment provider is to the payments plugin (the interface of the
``consultroom_payments_providers`` hook), and the values it returns.

The plugin keeps the payment's state (pending, paid, failed, refunded,
partly refunded) and changes it exactly once, whether the provider's
webhook or the client's return comes first; a provider only talks to its
service: it starts a checkout, says how a payment stands, reads its
webhook, refunds. Amounts are ``Decimal`` in the payment's currency.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

PENDING, PAID, FAILED = "pending", "paid", "failed"


@dataclass(frozen=True)
class Checkout:
    """A started checkout: the provider's id of it (``ref``) and where the
    client's browser pays (``url``)."""

    ref: str
    url: str


@dataclass(frozen=True)
class Outcome:
    """How the payment the provider knows as ``ref`` stands: PAID, FAILED
    or PENDING (nothing to do yet). ``event_id``, for a webhook's event,
    makes a replayed event recognisable; ``amount`` and ``currency``, when
    the provider says what was paid, are checked against the payment (a
    different amount is not a payment of it)."""

    ref: str
    state: str
    event_id: str = ""
    amount: Decimal | None = None
    currency: str = ""


class ProviderError(Exception):
    """The provider refused or could not be reached; the message (safe to
    show) says what happened, never a key."""


class WebhookRefused(Exception):  # noqa: N818 (what the provider says of the call)
    """A webhook call that is not the provider's (bad signature, too old)."""


class PaymentProvider(Protocol):
    """One payment provider.

    ``id`` (letters, digits, ``_``) names it in addresses and the database;
    ``label`` is shown on the client's button ("Pay with Stripe");
    ``options`` (a ``consultroom.tenancy.options.OptionSet``) are the
    organisation's account settings, edited by its admins under Payments →
    Providers (``secret=True`` ones are stored encrypted and never shown
    back). ``config`` below is those settings, decrypted.
    """

    id: str
    label: str
    options: Any

    def start(self, request, config, payment, return_url, cancel_url) -> Checkout:
        """Start paying ``payment`` (its ``gross`` in its ``currency``;
        ``payment.attempt`` is the idempotency key: the same key must
        never charge twice). The client goes to ``Checkout.url`` and comes
        back to ``return_url`` (or ``cancel_url``)."""
        ...

    def check(self, request, config, payment) -> Outcome:
        """How ``payment`` (``payment.provider_ref``) stands now: asked
        when the client comes back. A provider whose payments must be
        completed by the merchant (PayPal's capture) completes it here,
        idempotently."""
        ...

    def webhook(self, request, config) -> list[Outcome]:
        """The outcomes announced by the provider's call of this
        organisation's webhook (``request.body``), after verifying it is
        the provider's: raise :class:`WebhookRefused` otherwise."""
        ...

    def refund(self, request, config, payment, amount) -> str:
        """Refund ``amount`` of ``payment``; return the provider's id of
        the refund, or raise :class:`ProviderError`."""
        ...
