"""The translation plugin's own translation domain (gettext), for its Python
code and its templates."""

from pyramid.i18n import TranslationStringFactory

DOMAIN = "consultroom_translation"
_ = TranslationStringFactory(DOMAIN)
