"""Forms for logging in, passwords, the profile and staff management."""

import wtforms
from wtforms import validators as v

from consultroom.accounts.models import ROLE_LABELS, STAFF_ROLES, Role
from consultroom.accounts.passwords import MIN_LENGTH
from consultroom.i18n import LANGUAGES, _
from consultroom.web.forms import EmailAddress, Form, options


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


class LoginForm(Form):
    email = wtforms.EmailField(
        _("E-mail address"), [v.InputRequired(), v.Length(max=254)], filters=[_lower]
    )
    password = wtforms.PasswordField(_("Password"), [v.InputRequired(), v.Length(max=1000)])


class NewLinkForm(Form):
    email = wtforms.EmailField(
        _("E-mail address"),
        [v.InputRequired(), EmailAddress(), v.Length(max=254)],
        filters=[_lower],
    )


def _new_password_fields():
    return (
        wtforms.PasswordField(
            _("New password"),
            [v.InputRequired(), v.Length(min=MIN_LENGTH, max=1000)],
            description=_("At least ${n} characters.", mapping={"n": MIN_LENGTH}),
        ),
        wtforms.PasswordField(
            _("Repeat the new password"),
            [v.InputRequired(), v.EqualTo("password", message=_("The passwords differ."))],
        ),
    )


class SetPasswordForm(Form):
    password, confirm = _new_password_fields()


class ChangePasswordForm(Form):
    current = wtforms.PasswordField(_("Current password"), [v.InputRequired()])
    password, confirm = _new_password_fields()


def _language_field():
    return wtforms.SelectField(_("Language"), choices=options(LANGUAGES.items()))


def _department_field():
    return wtforms.SelectField(_("Department"), coerce=int, validate_choice=True)


class ProfileForm(Form):
    # DataRequired: it checks the stripped name, so only spaces is no name.
    name = wtforms.StringField(_("Name"), [v.DataRequired(), v.Length(max=200)], filters=[_strip])
    phone = wtforms.TelField(
        _("Phone"),
        [
            v.Optional(),
            v.Length(max=50),
            v.Regexp(r"^[0-9 +()\-]*$", message=_("Use digits, spaces and + ( ) - only.")),
        ],
        filters=[_strip],
    )
    language = _language_field()
    department_id = _department_field()
    photo = wtforms.FileField(_("Photo"), description=_("PNG, JPEG, GIF or WebP, at most 2 MB."))
    remove_photo = wtforms.BooleanField(_("Remove the photo"))


def _role_value(value):
    # Editing fills the form from the member, whose role is a Role; without
    # this no option would match and browsers would select the first one.
    return value.value if isinstance(value, Role) else value


class StaffForm(Form):
    name = ProfileForm.name
    email = wtforms.EmailField(
        _("E-mail address"),
        [v.InputRequired(), EmailAddress(), v.Length(max=254)],
        filters=[_lower],
    )
    phone = ProfileForm.phone
    role = wtforms.SelectField(_("Role"), coerce=_role_value)
    department_id = _department_field()
    language = _language_field()
    active = wtforms.BooleanField(_("Active"), default=True)


def role_choices(actor_role):
    """The roles ``actor_role`` may hand out."""
    allowed = STAFF_ROLES if actor_role is Role.org_admin else (Role.practitioner,)
    return options((r.value, ROLE_LABELS[r]) for r in allowed)
