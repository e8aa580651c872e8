"""Forms for clients, external participants and groups.

A client and a participant share the person fields (``PersonForm``); the
multi-selects are named ``*_ids`` so that ``obj=`` (a Client or Participant,
whose ``departments`` are objects, not ids) never fills them by accident.
"""

from datetime import date, datetime

import wtforms
from wtforms import validators as v

from consultroom.i18n import LANGUAGES, _
from consultroom.tenancy.timezones import local_now
from consultroom.web.forms import EmailAddress, Form, options

DATE_FORMATS = ("%d-%m-%Y", "%Y-%m-%d")
EARLIEST_BIRTH = date(1900, 1, 1)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def _single_line(form, field):
    # Control characters (NUL above all: PostgreSQL refuses it outright)
    # have no place in a name, number or address.
    if isinstance(field.data, str) and any(ord(c) < 32 or ord(c) == 127 for c in field.data):
        raise v.ValidationError(_("Remove the special (control) characters from this field."))


def parse_date(text):
    """``dd-mm-yyyy`` or ISO ``yyyy-mm-dd`` as a date; ValueError otherwise."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("Enter the date as dd-mm-yyyy, for example 31-12-1980."))


class DateField(wtforms.StringField):
    """A date typed as text: dd-mm-yyyy (how people write it here) or ISO
    (what a browser's date picker sends). Empty means no date."""

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if text:
            self.data = parse_date(text)

    def _value(self):
        if self.raw_data:  # show what was typed, also when it was wrong
            return self.raw_data[0]
        return self.data.strftime("%d-%m-%Y") if self.data else ""


def _in_the_past(form, field):
    if field.data is None:
        return
    if field.data >= local_now(form.request.organisation).date():
        raise v.ValidationError(_("The date of birth must be in the past."))
    if field.data < EARLIEST_BIRTH:
        raise v.ValidationError(_("Check the year: the date of birth is before 1900."))


def _text(label, max_length, required=False):
    checks = [v.DataRequired()] if required else []
    return wtforms.StringField(
        label, [*checks, v.Length(max=max_length), _single_line], filters=[_strip]
    )


class PersonForm(Form):
    """The fields a client and an external participant share."""

    initials = _text(_("Initials"), 20)
    last_name = _text(_("Last name"), 200, required=True)
    date_of_birth = DateField(
        _("Date of birth"),
        [_in_the_past],
        description=_("dd-mm-yyyy, for example 31-12-1980."),
        render_kw={"placeholder": "dd-mm-yyyy"},
    )
    email = wtforms.EmailField(
        _("E-mail address"),
        [v.Optional(), EmailAddress(), v.Length(max=254), _single_line],
        filters=[_lower],
    )
    phone = wtforms.TelField(
        _("Phone"),
        [
            v.Optional(),
            v.Length(max=50),
            v.Regexp(r"^[0-9 +()\-]*$", message=_("Use digits, spaces and + ( ) - only.")),
        ],
        filters=[_strip],
    )
    client_number = _text(_("Client number"), 100)
    language = wtforms.SelectField(_("Preferred language"), choices=options(LANGUAGES.items()))

    PERSON_FIELDS = (
        "initials",
        "last_name",
        "date_of_birth",
        "email",
        "phone",
        "client_number",
        "language",
    )

    def apply_to(self, person):
        for name in self.PERSON_FIELDS:
            setattr(person, name, self[name].data)


def _multi(label, description=None):
    return wtforms.SelectMultipleField(
        label, coerce=int, description=description, render_kw={"size": 6}
    )


class ClientForm(PersonForm):
    department_ids = _multi(_("Departments"))
    practitioner_ids = _multi(_("Practitioners"))


class ParticipantForm(PersonForm):
    group_ids = _multi(_("Groups"))


class GroupForm(Form):
    name = _text(_("Name"), 200, required=True)
