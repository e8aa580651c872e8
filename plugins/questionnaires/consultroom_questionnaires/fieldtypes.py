"""The field types of a questionnaire: what each asks, how a posted answer
is checked and stored, and how a stored answer reads.

A field is a dict in a version's ``fields``: ``key`` (its name in the form
and in the answers, stable across versions), ``type``, ``label``, ``help``,
``required`` and, for the choice types, ``options``. Answers are a dict of
``key`` to a stored value: text, a list of option texts (multiple choice),
``"yes"``/``"no"``, an ISO date, a number as text, a country's ISO code, or
an image's id. ``parse`` refuses bad input with ``Invalid`` (a translation
string to show at the field) and changes nothing.
"""

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError

from consultroom.web.inputs import CONTROL
from consultroom_questionnaires.i18n import _

SHORT_MAX, LONG_MAX = 200, 5000
LABEL_MAX, HELP_MAX, OPTION_MAX, OPTIONS_MAX = 300, 1000, 200, 50
FIRST_YEAR, LAST_YEAR = 1900, 2200
NUMBER_MAX = Decimal("1e12")
# Territories in Babel's list that are not countries one lives in.
NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}


class Invalid(ValueError):  # noqa: N818 (what the answer is)
    """Carries the translation string explaining what is wrong."""


@dataclass(frozen=True)
class FieldType:
    name: str
    label: object  # a translation string
    asks: bool = True  # False: a title or a paragraph, shown but not answered
    has_options: bool = False
    multiple: bool = False


TYPES = {
    t.name: t
    for t in (
        FieldType("title", _("Title"), asks=False),
        FieldType("paragraph", _("Paragraph (information text)"), asks=False),
        FieldType("short_text", _("Short text")),
        FieldType("long_text", _("Long text")),
        FieldType("single_choice", _("Single choice"), has_options=True),
        FieldType("multiple_choice", _("Multiple choice"), has_options=True, multiple=True),
        FieldType("dropdown", _("Dropdown"), has_options=True),
        FieldType("date", _("Date")),
        FieldType("number", _("Number")),
        FieldType("yes_no", _("Yes or no")),
        FieldType("country", _("Country")),
        FieldType("image", _("Image upload")),
    )
}


def new_key():
    """A field's key: short, random, a valid form name."""
    return "f" + secrets.token_hex(5)


def asks(field):
    return TYPES[field["type"]].asks


def countries(language):
    """``[(code, name)]`` of every country, named and sorted in ``language``."""
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    found = [
        (code, name)
        for code, name in locale.territories.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    ]
    return sorted(found, key=lambda pair: unicodedata.normalize("NFKD", pair[1]).casefold())


def country_name(code, language):
    try:
        return Locale.parse(language).territories.get(code, code)
    except (UnknownLocaleError, ValueError):
        return code


def _text(value, limit):
    if CONTROL.search(value):
        raise Invalid(_("Remove the control characters from this answer."))
    value = value.strip()
    if len(value) > limit:
        raise Invalid(
            _(
                "Write at most ${n} characters (this is ${m}).",
                mapping={"n": limit, "m": len(value)},
            )
        )
    return value or None


def _choice(field, value):
    if value not in field.get("options", []):
        raise Invalid(_("Choose one of the options."))
    return value


def _date(value):
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(_("Write the date as year-month-day, e.g. 2026-12-31.")) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Invalid(
            _("Give a date from ${a} to ${b}.", mapping={"a": FIRST_YEAR, "b": LAST_YEAR})
        )
    return day.isoformat()


def _number(value):
    try:
        number = Decimal(value.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise Invalid(_("Write a number, e.g. 72 or 1.5.")) from None
    if not number.is_finite() or abs(number) >= NUMBER_MAX:
        raise Invalid(_("Write a number, e.g. 72 or 1.5."))
    return format(number.normalize(), "f")


def parse(field, posted, language):
    """The stored value of ``field``'s answer in ``posted`` (a MultiDict),
    None when not answered; raises Invalid. Image fields are read by the
    caller (an upload), not here."""
    kind, key = field["type"], field["key"]
    if kind == "multiple_choice":
        chosen = [v for v in posted.getall(key) if isinstance(v, str)]
        for value in chosen:
            _choice(field, value)
        # In the questionnaire's order, each once.
        return [option for option in field.get("options", []) if option in chosen] or None
    value = posted.get(key, "")
    if not isinstance(value, str):
        raise Invalid(_("This answer is not text."))
    if kind == "long_text":
        return _text(value, LONG_MAX)
    value = _text(value, SHORT_MAX)
    if value is None or kind == "short_text":
        return value
    if kind in ("single_choice", "dropdown"):
        return _choice(field, value)
    if kind == "yes_no":
        if value not in ("yes", "no"):
            raise Invalid(_("Choose yes or no."))
        return value
    if kind == "date":
        return _date(value)
    if kind == "number":
        return _number(value)
    if kind == "country":
        if value not in dict(countries(language)):
            raise Invalid(_("Choose a country from the list."))
        return value
    raise Invalid(_("This field cannot be answered."))


def readable(field, value, t, language):
    """A stored answer as a reader sees it (text), or None when unanswered."""
    if value is None or value == [] or value == "":
        return None
    kind = field["type"]
    if kind == "multiple_choice":
        return ", ".join(value)
    if kind == "yes_no":
        return t(_("Yes")) if value == "yes" else t(_("No"))
    if kind == "country":
        return country_name(value, language)
    if kind == "image":
        return t(_("(image)"))
    return str(value)


def check_definition(kind, label, help_text, options_text):
    """``(label, help, options)`` for a field the editor saves, or a dict of
    {form field: translation string} problems."""
    problems = {}
    if kind not in TYPES:
        problems["type"] = _("Choose a field type.")
        return problems
    label = (label or "").strip()
    help_text = (help_text or "").strip()
    if not label:
        problems["label"] = _("Write the field's label.")
    for name, value, limit in (("label", label, LABEL_MAX), ("help", help_text, HELP_MAX)):
        if CONTROL.search(value):
            problems[name] = _("Remove the control characters.")
        elif len(value) > limit:
            problems[name] = _("Write at most ${n} characters.", mapping={"n": limit})
    options = []
    if TYPES[kind].has_options:
        options = list(dict.fromkeys(line.strip() for line in (options_text or "").splitlines()))
        options = [o for o in options if o]
        if len(options) < 2:
            problems["options"] = _("Give at least two options, one per line.")
        elif len(options) > OPTIONS_MAX or any(len(o) > OPTION_MAX for o in options):
            problems["options"] = _(
                "Give at most ${n} options of at most ${m} characters each.",
                mapping={"n": OPTIONS_MAX, "m": OPTION_MAX},
            )
        elif any(CONTROL.search(o) for o in options):
            problems["options"] = _("Remove the control characters.")
    return problems or (label, help_text, options)
