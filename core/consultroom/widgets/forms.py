"""Forms: the walk-in widget's configuration, its visitors' intake, the
booking widget's client details, and the origins allowed to embed the
widgets."""

import re
from datetime import date

import wtforms
from wtforms import validators as v

from consultroom.i18n import LANGUAGES, _
from consultroom.scheduling.forms import stop_if_unreadable
from consultroom.tenancy.forms import COLOUR
from consultroom.web.forms import EmailAddress, Form, options
from consultroom.widgets.embed import OriginRejected, parse_origins
from consultroom.widgets.models import INTAKE_FIELDS

INTAKE_LABELS = {
    "initials": _("Initials"),
    "last_name": _("Last name"),
    "date_of_birth": _("Date of birth"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "client_number": _("Client number"),
}
if set(INTAKE_LABELS) != set(INTAKE_FIELDS):
    raise RuntimeError("every intake field needs a label")

# What would end our <style> element or fetch another stylesheet. Removed
# until none is left, so that "@im@importport" cannot reassemble one.
_CSS_DANGER = re.compile(r"</style|@import", re.IGNORECASE)


def clean_css(css):
    css = css or ""
    while True:
        cleaned = _CSS_DANGER.sub("", css)
        if cleaned == css:
            return cleaned
        css = cleaned


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def past_birth_date(form, field):
    if field.data and not date(1900, 1, 1) <= field.data <= date.today():
        raise v.ValidationError(_("Give a date of birth in the past."))


class BookingForm(Form):
    """The client's details, for the booking widget."""

    initials = wtforms.StringField(
        _("Initials"), [v.Optional(), v.Length(max=20)], filters=[_strip]
    )
    last_name = wtforms.StringField(
        _("Last name"), [v.DataRequired(), v.Length(max=200)], filters=[_strip]
    )
    date_of_birth = wtforms.DateField(
        _("Date of birth"), [v.InputRequired(), stop_if_unreadable, past_birth_date]
    )
    email = wtforms.StringField(
        _("E-mail"), [v.DataRequired(), v.Length(max=254), EmailAddress()], filters=[_strip]
    )
    phone = wtforms.StringField(_("Phone"), [v.Optional(), v.Length(max=50)], filters=[_strip])
    language = wtforms.SelectField(_("Preferred language"), choices=options(LANGUAGES.items()))
    terms = wtforms.BooleanField(
        _("I agree that my details are used to arrange this consultation."),
        [v.DataRequired(message=_("Tick this box to book."))],
    )


def _long_text(label, description=None):
    return wtforms.TextAreaField(
        label, [v.Optional(), v.Length(max=5000)], filters=[_strip], description=description
    )


class WalkInWidgetForm(Form):
    name = wtforms.StringField(_("Name"), [v.DataRequired(), v.Length(max=200)], filters=[_strip])
    departments = wtforms.SelectMultipleField(
        _("Departments"),
        coerce=int,
        choices=[],
        description=_(
            "Practitioners of these departments are listed. None chosen: all practitioners."
        ),
    )
    opening_hours = _long_text(
        _("Opening hours"), _('Shown above the list, e.g. "Weekdays 9:00–12:00".')
    )
    absence_text = _long_text(_("Text when nobody is available"))
    primary_colour = wtforms.StringField(_("Main colour"), [v.InputRequired(), COLOUR])
    background_colour = wtforms.StringField(_("Background colour"), [v.InputRequired(), COLOUR])
    intake_fields = wtforms.SelectMultipleField(
        _("Visitors must fill in"),
        choices=options(INTAKE_LABELS.items()),
        description=_("The visitor also always accepts the terms."),
    )
    terms_text = _long_text(_("Terms"))
    logo = wtforms.FileField(
        _("Logo"),
        description=_("PNG, JPEG, GIF or WebP, at most 2 MB; scaled to fit 300 × 100 pixels."),
    )
    remove_logo = wtforms.BooleanField(_("Remove the logo"))
    background = wtforms.FileField(
        _("Background image"),
        description=_("PNG, JPEG, GIF or WebP, at most 5 MB; scaled to fit 1600 × 1200 pixels."),
    )
    remove_background = wtforms.BooleanField(_("Remove the background image"))
    custom_css = wtforms.TextAreaField(
        _("Custom CSS"), [v.Optional(), v.Length(max=20000)], filters=[clean_css]
    )

    def __init__(self, request, department_choices, **kwargs):
        super().__init__(request, **kwargs)
        self.departments.choices = options((d.id, d.name) for d in department_choices)


class EmbedOriginsForm(Form):
    origins = wtforms.TextAreaField(
        _("Websites that may show the widgets"),
        description=_(
            "One per line, like https://www.example.org (with a port if it is not the"
            " usual one; no path)."
        ),
    )

    def check(self):
        """The parsed origins, or None with the reason on the field."""
        if not self.validate():
            return None
        try:
            return parse_origins(self.origins.data)
        except OriginRejected as exc:
            self.add_error("origins", exc.args[0])
            return None


def _intake_field(name):
    """A required form field for intake field ``name``."""
    label = INTAKE_LABELS[name]
    if name == "date_of_birth":
        return wtforms.DateField(label, [v.InputRequired(), stop_if_unreadable, past_birth_date])
    checks = {
        "initials": [v.Length(max=20)],
        "last_name": [v.Length(max=200)],
        "email": [v.Length(max=254), EmailAddress()],
        "phone": [v.Length(max=50)],
        "client_number": [v.Length(max=100)],
    }[name]
    return wtforms.StringField(label, [v.DataRequired(), *checks], filters=[_strip])


def intake_form_class(widget):
    """The visitor's form: the widget's intake fields, all required, and the terms."""
    fields = {
        name: _intake_field(name) for name in INTAKE_FIELDS if name in (widget.intake_fields or [])
    }
    fields["terms"] = wtforms.BooleanField(
        _("I accept the terms."),
        [v.DataRequired(message=_("Accept the terms to continue."))],
        description=widget.terms_text or None,
    )
    return type("IntakeForm", (Form,), fields)
