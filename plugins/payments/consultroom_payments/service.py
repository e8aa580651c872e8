"""Reading an organisation's payment set-up for a request: its settings,
rates and VAT rules, each scoped to the request's organisation, and the
price of a rate for a buyer."""

from decimal import Decimal

from sqlalchemy import select

from consultroom.web.forms import MAX_INTEGER
from consultroom_payments import vat
from consultroom_payments.models import PaymentSettings, Rate, VatRule
from consultroom_payments.money import display


def settings_row(request):
    """The organisation's settings row (made, not yet flushed, when missing)."""
    org_id = request.organisation.id
    row = request.dbsession.get(PaymentSettings, org_id)
    if row is None:
        row = PaymentSettings(
            organisation_id=org_id,
            country="",
            vat_number="",
            prices_include_vat=True,
            reverse_charge=True,
            booking_rate_id=None,
            walk_in_rate_id=None,
        )
    return row


def rates(request, archived=False):
    return request.dbsession.scalars(
        select(Rate)
        .where(Rate.organisation_id == request.organisation.id, Rate.archived == archived)
        .order_by(Rate.name, Rate.id)
    ).all()


def whole_id(text):
    """An id from a form or an address, or None when it is none (not a
    whole number, or beyond what a database integer holds)."""
    text = str(text) if text is not None else ""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_INTEGER:
        return None
    return int(text)


def rate_by_id(request, rate_id, active_only=False):
    """The organisation's rate ``rate_id`` (a text from a form or a URL), or None."""
    rate_id = whole_id(rate_id)
    if rate_id is None:
        return None
    rate = request.dbsession.scalar(
        select(Rate).where(Rate.organisation_id == request.organisation.id, Rate.id == rate_id)
    )
    if rate is None or (active_only and rate.archived):
        return None
    return rate


def vat_rules(request):
    return request.dbsession.scalars(
        select(VatRule)
        .where(VatRule.organisation_id == request.organisation.id)
        .order_by(VatRule.country, VatRule.kind)
    ).all()


def price_for(request, rate, buyer):
    """The Price of ``rate`` for ``buyer`` (a vat.Buyer), or None when no
    VAT rule covers them."""
    settings = settings_row(request)
    rules = [vat.Rule(r.country, r.kind, r.rate) for r in vat_rules(request)]
    applied = vat.treatment(rules, settings.country, buyer, settings.reverse_charge)
    if applied is None:
        return None
    home = vat.rule_for(rules, settings.country, business=False)
    if settings.prices_include_vat and home is None:
        return None  # the price's own VAT is unknown
    home_rate = home.rate if home is not None else Decimal(0)
    return vat.price(rate.amount, rate.currency, applied, settings.prices_include_vat, home_rate)


def money_label(request, rate):
    """A rate's amount as the reader writes it."""
    return display(rate.amount, rate.currency, request.locale_name)
