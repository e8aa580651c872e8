"""The payments plugin's VAT and money rules (plugins/payments), as tables:
which rate a client pays by country and kind, the EU reverse charge with the
VAT number's shape, prices entered including or excluding VAT, and the one
rounding by the currency's minor units."""

from decimal import Decimal

import pytest
from consultroom_payments import money, vat

D = Decimal
RULES = [
    vat.Rule("NL", vat.ANY_KIND, D("21")),
    vat.Rule("DE", vat.PRIVATE, D("19")),
    vat.Rule("BE", vat.ANY_KIND, D("21")),
    vat.Rule("BE", vat.BUSINESS, D("6")),
    vat.Rule(vat.ANY_COUNTRY, vat.ANY_KIND, D("0")),
]


@pytest.mark.parametrize(
    "country, business, number, rate, reverse",
    [
        ("NL", False, "", "21", False),  # home country, private
        ("NL", True, "NL123456789B01", "21", False),  # home business: no reverse charge
        ("DE", False, "", "19", False),  # own rule for private clients
        ("DE", True, "DE123456789", "0", True),  # EU business, valid number: reverse charge
        ("DE", True, "DE12345678", "0", False),  # number too short: the "every other" rule
        ("DE", True, "NL123456789B01", "0", False),  # another country's number
        ("BE", True, "BE0123456789", "0", True),
        ("BE", True, "", "6", False),  # business without number: country+kind rule
        ("BE", False, "", "21", False),  # country rule for any kind
        ("GR", True, "EL123456789", "0", True),  # Greece's prefix is EL
        ("US", True, "", "0", False),  # outside the EU: every other country
    ],
)
def test_the_rate_a_client_pays(country, business, number, rate, reverse):
    applied = vat.treatment(RULES, "NL", vat.Buyer(country, business, number))
    assert (applied.rate, applied.reverse_charge) == (D(rate), reverse)


def test_reverse_charge_can_be_switched_off_and_no_rule_means_no_price():
    business = vat.Buyer("DE", True, "DE123456789")
    assert vat.treatment(RULES, "NL", business, reverse_charge=False).rate == D("0")
    assert vat.treatment(RULES[:2], "NL", vat.Buyer("FR")) is None
    # A seller outside the EU charges no reverse charge.
    assert not vat.treatment(RULES, "CH", business).reverse_charge


@pytest.mark.parametrize(
    "number, country, valid",
    [
        ("NL123456789B01", "NL", True),
        ("NL123456789B1", "NL", False),
        ("ATU12345678", "AT", True),
        ("AT12345678", "AT", False),
        ("FR12345678901", "FR", True),
        ("ESX1234567X", "ES", True),
        ("SE123456789001", "SE", True),
        ("SE123456789002", "SE", False),
        ("EL123456789", "GR", True),
        ("GR123456789", "GR", False),
        ("US123456789", "US", False),
    ],
)
def test_vat_number_shapes(number, country, valid):
    assert vat.vat_number_valid(number, country) is valid


def test_vat_numbers_are_normalised():
    assert vat.normalised_vat_number(" nl 1234.567-89 b01 ") == "NL123456789B01"


@pytest.mark.parametrize(
    "amount, currency, rate, includes, home, net, tax, gross",
    [
        # Including VAT: a home client pays the amount exactly.
        ("100.00", "EUR", "21", True, "21", "82.64", "17.36", "100.00"),
        # Another rate: back to net at the home rate, then the client's rate.
        ("100.00", "EUR", "19", True, "21", "82.65", "15.70", "98.35"),
        # Reverse charge (0%): the net amount.
        ("100.00", "EUR", "0", True, "21", "82.64", "0.00", "82.64"),
        # Excluding VAT: VAT added.
        ("100.00", "EUR", "21", False, "21", "100.00", "21.00", "121.00"),
        ("0.05", "EUR", "21", False, "21", "0.05", "0.01", "0.06"),  # 0.0105 and 0.0605
        # Currencies without or with three minor units.
        ("1000", "JPY", "10", False, "10", "1000", "100", "1100"),
        ("999", "JPY", "10", True, "10", "908", "91", "999"),
        ("10.000", "BHD", "10", False, "10", "10.000", "1.000", "11.000"),
        ("1.005", "BHD", "5", False, "5", "1.005", "0.050", "1.055"),
    ],
)
def test_prices(amount, currency, rate, includes, home, net, tax, gross):
    price = vat.price(D(amount), currency, vat.Treatment(D(rate)), includes, D(home))
    assert (price.net, price.vat, price.gross) == (D(net), D(tax), D(gross))
    assert price.net + price.vat == price.gross


@pytest.mark.parametrize(
    "text, currency, expected",
    [
        ("12,50", "EUR", "12.50"),
        (" 12.5 ", "EUR", "12.5"),
        ("12.505", "EUR", None),  # more decimals than the euro has
        ("1000", "JPY", "1000"),
        ("10.5", "JPY", None),
        ("-1", "EUR", None),
        ("1e3", "EUR", None),
        ("NaN", "EUR", None),
        ("1000000", "EUR", None),
        ("twelve", "EUR", None),
    ],
)
def test_amounts_typed_by_a_person(text, currency, expected):
    parsed = money.parse_amount(text, currency)
    assert parsed == (None if expected is None else D(expected))


def test_minor_units_round_half_up_once():
    assert money.minor_units(D("12.345"), "EUR") == 1235
    assert money.minor_units(D("1000"), "JPY") == 1000
    assert money.from_minor_units(1235, "EUR") == D("12.35")
    assert money.display(D("1234.5"), "EUR", "nl") == "€\xa01.234,50"
