"""Money as ``Decimal``, from the form to the provider and the receipt:
parsing what a person typed, rounding once by the currency's minor units
(Babel knows them: two for EUR, none for JPY, three for BHD), converting to
the provider's smallest unit and formatting for a reader's language."""

import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision, list_currencies

# Currencies a rate may be in: ISO 4217 codes Babel knows.
CURRENCIES = sorted(list_currencies())
MAX_AMOUNT = Decimal("999999.99")
# Digits, and optionally a point and decimals: no signs, exponents or NaN.
AMOUNT = re.compile(r"\d{1,7}(?:\.(\d{1,6}))?")


def digits(currency):
    """How many minor units the currency has (2 for EUR)."""
    return get_currency_precision(currency)


def rounded(amount, currency):
    """``amount`` rounded to the currency's minor unit, half up (the one
    rounding a figure gets)."""
    return amount.quantize(Decimal(1).scaleb(-digits(currency)), rounding=ROUND_HALF_UP)


def minor_units(amount, currency):
    """A rounded amount as a whole number of minor units (cents), as the
    providers take it."""
    return int(rounded(amount, currency).scaleb(digits(currency)))


def from_minor_units(units, currency):
    return Decimal(int(units)).scaleb(-digits(currency))


def parse_amount(text, currency=None):
    """A positive amount typed by a person ("12,50" or "12.50"), or None.
    With ``currency``, more decimals than it has are refused (None)."""
    cleaned = (text or "").strip().replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    match = AMOUNT.fullmatch(cleaned)
    if match is None:
        return None
    if currency is not None and len(match.group(1) or "") > digits(currency):
        return None
    amount = Decimal(cleaned)
    return amount if amount <= MAX_AMOUNT else None


def display(amount, currency, locale):
    """``amount`` as a reader of ``locale`` writes it: "€ 12,50"."""
    return format_currency(amount, currency, locale=locale)
