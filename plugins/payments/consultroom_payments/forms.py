"""The organisation admin's forms: payment settings, a rate, a VAT rule.
Each refuses bad input with a message at its field."""

import re
from decimal import Decimal

import wtforms
from babel import Locale

from consultroom.web.forms import Form, options
from consultroom_payments import money, vat
from consultroom_payments.i18n import _

KINDS = (
    (vat.ANY_KIND, _("Private and business")),
    (vat.PRIVATE, _("Private")),
    (vat.BUSINESS, _("Business")),
)
PERCENT = re.compile(r"\d{1,3}([.,]\d{1,2})?")


# Two-letter codes in Babel's territories that are no country: unions,
# "unknown region" and the private-use codes.
NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "QO"} | {f"X{c}" for c in "ABCDEFGHIJLMNOPQRSTUVWXYZ"}


def countries(request):
    """(code, name) of every country, named in the request's language."""
    names = Locale.parse(request.locale_name).territories
    return sorted(
        (
            (code, name)
            for code, name in names.items()
            if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
        ),
        key=lambda pair: pair[1],
    )


def country_name(request, code):
    if not code:
        return request.localizer.translate(_("Every other country"))
    return Locale.parse(request.locale_name).territories.get(code, code)


def _required(message):
    return [wtforms.validators.InputRequired(message)]


def _rate_id(value):
    """A rate's id from the form ("" for free)."""
    if value in (None, "", "None"):
        return None
    return int(value) if str(value).isdigit() else value


class SettingsForm(Form):
    country = wtforms.SelectField(
        _("Country where the organisation is established"),
        choices=[],
        validators=_required(_("Choose the country.")),
    )
    vat_number = wtforms.StringField(
        _("The organisation's VAT number"),
        description=_("Printed on receipts."),
        validators=[wtforms.validators.Length(max=20)],
    )
    prices_include_vat = wtforms.BooleanField(
        _("Rates include VAT"),
        description=_(
            "A rate is what a private client in your own country pays; otherwise VAT is added."
        ),
    )
    reverse_charge = wtforms.BooleanField(
        _("EU reverse charge for businesses"),
        description=_(
            "A business in another EU country with a valid VAT number pays no VAT"
            " (it accounts for it itself)."
        ),
    )

    booking_rate_id = wtforms.SelectField(
        _("Rate of appointments booked in the booking widget"), choices=[], coerce=_rate_id
    )
    walk_in_rate_id = wtforms.SelectField(
        _("Rate of walk-ins from the walk-in widget"), choices=[], coerce=_rate_id
    )

    def validate_vat_number(self, field):
        number = vat.normalised_vat_number(field.data)
        field.data = number
        if (
            number
            and self.country.data in vat.EU
            and not vat.vat_number_valid(number, self.country.data)
        ):
            raise wtforms.validators.ValidationError(
                _("This is not a VAT number of the chosen country (for example NL123456789B01).")
            )


def settings_form(request, row, rates):
    """The settings form; the widgets' rates are chosen from ``rates``."""
    form = SettingsForm(request, obj=row)
    form.country.choices = options([("", ""), *countries(request)])
    free = request.localizer.translate(_("Free"))
    rate_choices = [(None, free), *((rate.id, rate.name) for rate in rates)]
    form.booking_rate_id.choices = rate_choices
    form.walk_in_rate_id.choices = rate_choices
    return form


class RateForm(Form):
    name = wtforms.StringField(
        _("Name"),
        validators=[
            wtforms.validators.InputRequired(_("Give the rate a name.")),
            wtforms.validators.Length(max=100),
        ],
    )
    amount = wtforms.StringField(
        _("Amount"), validators=_required(_("Enter the amount, for example 45.00."))
    )
    currency = wtforms.SelectField(
        _("Currency"), choices=options((c, c) for c in money.CURRENCIES), default="EUR"
    )

    def validate_amount(self, field):
        currency = self.currency.data if self.currency.data in money.CURRENCIES else None
        amount = money.parse_amount(field.data, currency)
        if amount is None:
            raise wtforms.validators.ValidationError(
                _(
                    "Enter an amount from 0 to 999999.99 with at most ${digits} decimals,"
                    " for example 45.00.",
                    mapping={"digits": money.digits(currency) if currency else 2},
                )
            )
        field.data = str(amount)

    @property
    def decimal_amount(self):
        return Decimal(self.amount.data)


class VatRuleForm(Form):
    country = wtforms.SelectField(_("Client's country"), choices=[])
    kind = wtforms.SelectField(_("Clients"), choices=options(KINDS))
    rate = wtforms.StringField(
        _("VAT rate (%)"), validators=_required(_("Enter the rate, for example 21."))
    )

    def validate_rate(self, field):
        text = (field.data or "").strip()
        if not PERCENT.fullmatch(text) or Decimal(text.replace(",", ".")) > 100:
            raise wtforms.validators.ValidationError(
                _("Enter a percentage from 0 to 100 with at most two decimals, for example 21.")
            )
        field.data = text.replace(",", ".")


def vat_rule_form(request, rule=None):
    form = VatRuleForm(request, obj=rule)
    if rule is not None and request.method != "POST":
        form.rate.data = str(rule.rate)
    every = (vat.ANY_COUNTRY, request.localizer.translate(_("Every other country")))
    form.country.choices = options([every, *countries(request)])
    return form
