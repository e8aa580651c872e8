"""Forms for an organisation's own settings and its departments."""

import wtforms
from wtforms import validators as v

from consultroom.i18n import LANGUAGES, _
from consultroom.tenancy.timezones import ZONES
from consultroom.web.forms import EmailAddress, Form, options
from consultroom.web.safecss import MAX_LENGTH, SafeCSS

COLOUR = v.Regexp(r"^#[0-9a-fA-F]{6}$", message=_("Use a colour like #1f6f8b."))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(label, max_length, *checks, description=""):
    return wtforms.StringField(
        label,
        [v.Optional(), v.Length(max=max_length), *checks],
        filters=[_strip],
        description=description,
    )


class OrganisationForm(Form):
    # DataRequired, not InputRequired: a name of only spaces is empty once stripped.
    name = wtforms.StringField(_("Name"), [v.DataRequired(), v.Length(max=200)], filters=[_strip])
    language = wtforms.SelectField(_("Default language"), choices=options(LANGUAGES.items()))
    timezone = wtforms.SelectField(_("Time zone"), choices=options((z, z) for z in ZONES))
    contact_email = _text(_("Contact e-mail"), 254, EmailAddress())
    contact_phone = _text(_("Contact phone"), 50)
    contact_address = wtforms.TextAreaField(
        _("Address"), [v.Optional(), v.Length(max=500)], filters=[_strip]
    )
    contact_website = _text(_("Website"), 500, v.URL(require_tld=False))
    primary_colour = wtforms.StringField(_("Main colour"), [v.InputRequired(), COLOUR])
    accent_colour = wtforms.StringField(_("Accent colour"), [v.InputRequired(), COLOUR])
    address_nl = _text(_("Form of address (Dutch)"), 100)
    address_en = _text(_("Form of address (English)"), 100)
    address_de = _text(_("Form of address (German)"), 100)
    address_sv = _text(_("Form of address (Swedish)"), 100)
    logo = wtforms.FileField(
        _("Logo"),
        description=_("PNG, JPEG, GIF or WebP, at most 2 MB; scaled to fit 180 × 50 pixels."),
    )
    remove_logo = wtforms.BooleanField(_("Remove the logo"))
    # Choices: the installed themes (set_theme_choices); an unknown name gets
    # InstalledTheme's message rather than WTForms' "Not a valid choice".
    theme = wtforms.SelectField(
        _("Theme"),
        validate_choice=False,
        description=_("How the pages your clients and staff see look: layout, type and room."),
    )
    custom_css = wtforms.TextAreaField(
        _("Custom CSS"),
        [v.Optional(), v.Length(max=MAX_LENGTH), SafeCSS()],
        description=_(
            "Optional style rules added to every page. Not allowed: @import, url() to other"
            " sites, expressions and scripts."
        ),
    )

    def set_theme_choices(self, installed, installation_title):
        """The installed themes (``(name, title)``), after "the installation's"."""
        default = _("The standard theme (${title})", mapping={"title": installation_title})
        self.theme.choices = options([("", default), *installed])
        self.theme.validators = [InstalledTheme({name for name, _title in installed})]


class InstalledTheme:
    """Refuses a theme name that is not installed, with a clear message."""

    def __init__(self, names):
        self.names = names

    def __call__(self, form, field):
        if field.data and field.data not in self.names:
            raise v.ValidationError(
                _(
                    "There is no theme called ${name}: choose one from the list.",
                    mapping={"name": field.data[:63]},
                )
            )


class DepartmentForm(Form):
    name = wtforms.StringField(_("Name"), [v.DataRequired(), v.Length(max=200)], filters=[_strip])
    arrival_email = _text(
        _("E-mail when a client arrives"),
        254,
        EmailAddress(),
        description=_(
            "Optional: an address (a shared inbox, a pager gateway) that hears of each client"
            " arriving in this department's waiting room, without their name."
        ),
    )
