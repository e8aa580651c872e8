"""The questionnaires plugin's own translation domain, for Python code and
for its templates.

Its pages extend the core's layout (the core's domain); its templates
translate their own strings with ``t("...")``, which every view hands to
its template (``page(request, ...)``). ``localizer_for(language)`` speaks a
language outside any request: the default anamnesis questionnaire is
written in the organisation's language when it enables the plugin.
"""

from pathlib import Path

from pyramid.i18n import TranslationString, TranslationStringFactory, make_localizer

DOMAIN = "consultroom_questionnaires"
_ = TranslationStringFactory(DOMAIN)
LOCALE_DIR = Path(__file__).parent / "locale"


def translator(localizer):
    """``t(message, **mapping)``: a plain string (of this domain) or a
    translation string, translated with ``localizer``."""

    def t(message, **mapping):
        if not isinstance(message, TranslationString):
            message = _(message, mapping=mapping)
        return localizer.translate(message)

    return t


def page(request, **values):
    """A template's values, with ``t`` to translate this plugin's strings."""
    return {"t": translator(request.localizer), **values}


def localizer_for(language):
    """A localizer of this plugin's catalogues in ``language``."""
    return make_localizer(language, [str(LOCALE_DIR)])
