"""The captions plugin's settings per organisation (the hosting provider's
console), and reading them."""

import re

from consultroom.plugins import enablement
from consultroom.tenancy.options import BoolOption, ChoiceOption, OptionSet, TextOption
from consultroom_translation.i18n import _

PLUGIN_ID = "translation"

ON_REQUEST = "on_request"
BY_DEFAULT = "by_default"

_LANGUAGE = re.compile(r"^[a-z]{2}$")


def languages_in(text: str) -> list[str]:
    """The language codes of a "languages offered" value, in its order."""
    return [code.strip().lower() for code in text.split(",") if code.strip()]


def _languages_are_codes(values):
    codes = languages_in(values.get("languages", ""))
    if not codes or not all(_LANGUAGE.match(code) for code in codes):
        return {
            "languages": _(
                "List two-letter language codes separated by commas, for example: en, nl, de."
            )
        }
    return {}


OPTIONS = OptionSet(
    (
        ChoiceOption(
            "start",
            _("Captions start"),
            help=_("On request: someone in the room presses the captions button."),
            default=ON_REQUEST,
            choices=((ON_REQUEST, _("On request")), (BY_DEFAULT, _("By default"))),
        ),
        TextOption(
            "languages",
            _("Languages offered"),
            help=_("Two-letter codes separated by commas; the first is the default."),
            default="en",
            max_length=200,
        ),
        BoolOption(
            "keep_transcript",
            _("Keep a transcript"),
            help=_(
                "The captions are kept, encrypted, on the appointment page"
                " until the appointment is anonymised."
            ),
        ),
    ),
    rules=(_languages_are_codes,),
)


def settings_of(dbsession, organisation) -> dict | None:
    """The organisation's captions settings, or None where the plugin is off."""
    row = enablement(dbsession, organisation, PLUGIN_ID)
    if row is None or not row.enabled:
        return None
    return OPTIONS.values(row.settings)
