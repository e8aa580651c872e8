"""Single sign-on's own translation domain, for Python code and templates.

Its pages extend the core's layout (the core's domain); its own templates
translate their strings with ``t("...")``, which ``page(request, ...)``
hands to them. The core's form macros call the same ``t`` with translation
strings (labels, errors), which keep their own domain.
"""

from pyramid.i18n import TranslationString, TranslationStringFactory

DOMAIN = "consultroom_sso"
_ = TranslationStringFactory(DOMAIN)


def translator(request):
    """``t(message, **mapping)``: a string of this domain (or a translation
    string of any domain) translated for ``request``."""

    def t(message, **mapping):
        if not isinstance(message, TranslationString):
            message = _(message, mapping=mapping)
        return request.localizer.translate(message)

    return t


def page(request, **values):
    """A template's values, with ``t`` to translate this plugin's strings."""
    return {"t": translator(request), **values}
