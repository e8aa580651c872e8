"""The payments plugin's own translation domain, for Python code and for its
templates (``t("...")``, handed to every template by ``page``), as in the
chat plugin: the core's layout and form macros keep the core's domain."""

from pyramid.i18n import TranslationString, TranslationStringFactory

from consultroom_payments.money import display

DOMAIN = "consultroom_payments"
_ = TranslationStringFactory(DOMAIN)


def translator(request):
    """``t(message, **mapping)``: a string of this domain (or a translation
    string of any domain) in the request's language."""

    def t(message, **mapping):
        if not isinstance(message, TranslationString):
            message = _(message, mapping=mapping)
        return request.localizer.translate(message)

    return t


def page(request, **values):
    """A payments template's values, with ``t`` to translate its strings
    and ``money(amount, currency)`` to show an amount in the reader's way."""

    def money(amount, currency):
        return display(amount, currency, request.locale_name)

    return {"t": translator(request), "money": money, **values}
