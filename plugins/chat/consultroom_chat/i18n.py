"""Chat's own translation domain, for Python code and for its templates.

Chat's pages extend the core's layout, whose strings are in the core's
domain; chat's templates translate their own strings with ``t("...")``,
which every chat view hands to its template (``page(request, ...)``). The
core's form macros call the same ``t`` with translation strings (labels,
errors), which keep their own domain.
"""

from pyramid.i18n import TranslationString, TranslationStringFactory

DOMAIN = "consultroom_chat"
_ = TranslationStringFactory(DOMAIN)


def page(request, **values):
    """A chat template's values, with ``t`` to translate chat's strings."""

    def t(message, **mapping):
        if not isinstance(message, TranslationString):
            message = _(message, mapping=mapping)
        return request.localizer.translate(message)

    return {"t": t, **values}
