"""Forms for the second factor at login, enrolment and switching it off."""

import wtforms
from wtforms import validators as v

from consultroom.i18n import _
from consultroom.web.forms import Form

_CODE_INPUT = {"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}


class LoginCodeForm(Form):
    code = wtforms.StringField(
        _("Code"),
        [v.InputRequired(), v.Length(max=50)],
        description=_(
            "The 6-digit code from your authenticator app, or one of your recovery codes."
        ),
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false"},
    )


class AppCodeForm(Form):
    code = wtforms.StringField(
        _("Code from your app"),
        [v.InputRequired(), v.Length(max=20)],
        render_kw=_CODE_INPUT,
    )


class DisableForm(Form):
    proof = wtforms.PasswordField(
        _("Code from your app, or your password"),
        [v.InputRequired(), v.Length(max=1000)],
        render_kw={"autocomplete": "off"},
    )
