"""VAT: which rate applies to a client (by country, private or business,
with the EU's reverse charge for businesses elsewhere in the EU that give a
VAT number of the right shape), and what a price is made of (net, VAT,
gross), computed in ``Decimal`` and rounded once.

The organisation's prices are entered either including VAT (what a private
client in the organisation's own country pays) or excluding it. A price
including VAT is first taken back to its net amount at the rate of the
organisation's own country, then the client's rate is applied: a client
whose rate is the home rate pays exactly the entered price, a business
under reverse charge pays the net amount.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from consultroom_payments.money import rounded

HUNDRED = Decimal(100)
ANY_COUNTRY = ""
PRIVATE, BUSINESS, ANY_KIND = "private", "business", "any"

# The EU member states (ISO 3166 codes). Greece's VAT numbers start with EL.
EU = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
VAT_PREFIX = {"GR": "EL"}

# The shape of each member state's VAT number after its prefix (the VIES
# formats); the check is of the shape only, not that the number exists.
VAT_FORMATS = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "GR": r"\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{10}01",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
}


def normalised_vat_number(text):
    """A VAT number without spaces, dots and dashes, in capitals."""
    return re.sub(r"[\s.\-]", "", text or "").upper()


def vat_number_valid(number, country):
    """Whether ``number`` (normalised) has the shape of a VAT number of the
    EU member state ``country``, its prefix included ("NL123456789B01")."""
    pattern = VAT_FORMATS.get(country)
    prefix = VAT_PREFIX.get(country, country)
    if pattern is None or not number.startswith(prefix):
        return False
    return re.fullmatch(pattern, number[len(prefix) :]) is not None


@dataclass(frozen=True)
class Rule:
    """One VAT rule: the rate (percent) for clients of ``country`` (or any
    other country: "") who are ``kind`` (private, business, or any)."""

    country: str
    kind: str
    rate: Decimal


@dataclass(frozen=True)
class Buyer:
    country: str
    business: bool = False
    vat_number: str = ""


@dataclass(frozen=True)
class Treatment:
    """The VAT a buyer pays: the rate, and whether the EU reverse charge
    applies (the rate is then 0 and the receipt says so)."""

    rate: Decimal
    reverse_charge: bool = False


def rule_for(rules, country, business):
    """The most specific rule for a client: their country and kind, their
    country, any country and their kind, any country; None when none fits."""
    kind = BUSINESS if business else PRIVATE
    ranked = {
        (country, kind): 0,
        (country, ANY_KIND): 1,
        (ANY_COUNTRY, kind): 2,
        (ANY_COUNTRY, ANY_KIND): 3,
    }
    fitting = [r for r in rules if (r.country, r.kind) in ranked]
    return min(fitting, key=lambda r: ranked[(r.country, r.kind)], default=None)


def treatment(rules, seller_country, buyer, reverse_charge=True):
    """The VAT ``buyer`` pays to a seller in ``seller_country``, or None
    when no rule covers them. With ``reverse_charge``, a business in
    another EU member state with a well-formed VAT number of its country
    pays none (the buyer accounts for it)."""
    if (
        reverse_charge
        and buyer.business
        and seller_country in EU
        and buyer.country in EU
        and buyer.country != seller_country
        and vat_number_valid(buyer.vat_number, buyer.country)
    ):
        return Treatment(Decimal(0), reverse_charge=True)
    rule = rule_for(rules, buyer.country, buyer.business)
    return None if rule is None else Treatment(rule.rate)


@dataclass(frozen=True)
class Price:
    """What a client pays: ``gross`` = ``net`` + ``vat``, each in the
    currency's minor units."""

    net: Decimal
    vat: Decimal
    gross: Decimal
    rate: Decimal
    currency: str
    reverse_charge: bool = False


def price(amount, currency, applied, includes_vat, home_rate):
    """The price of a rate of ``amount`` for a client with VAT ``applied``
    (a Treatment). ``home_rate`` is the rate of a private client in the
    seller's country, which an amount including VAT includes. The exact
    gross and VAT are rounded once each; net is their difference, so that
    the three always add up."""
    rate = applied.rate
    if includes_vat:
        gross_exact = amount * (HUNDRED + rate) / (HUNDRED + home_rate)
    else:
        gross_exact = amount * (HUNDRED + rate) / HUNDRED
    gross = rounded(gross_exact, currency)
    vat = rounded(gross_exact * rate / (HUNDRED + rate), currency)
    return Price(gross - vat, vat, gross, rate, currency, applied.reverse_charge)
