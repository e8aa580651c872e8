"""The template-set form: name, language, default flag, departments, and a
subject and body for each kind of client e-mail."""

import wtforms
from wtforms import validators as v

from consultroom.clientmail.models import KINDS
from consultroom.i18n import LANGUAGES, _
from consultroom.web.forms import Form, options

KIND_LABELS = {
    "invitation": _("Invitation"),
    "reminder": _("Reminder"),
    "change": _("Change notice"),
    "cancellation": _("Cancellation notice"),
}
SUBJECT_MAX = 300
BODY_MAX = 20000


def _strip(value):
    return (value or "").strip()


def subject_field(kind):
    return f"{kind}_subject"


def body_field(kind):
    return f"{kind}_body"


class _BaseForm(Form):
    name = wtforms.StringField(_("Name"), [v.DataRequired(), v.Length(max=200)], filters=[_strip])
    language = wtforms.SelectField(_("Language"), choices=options(LANGUAGES.items()))
    is_default = wtforms.BooleanField(
        _("Default for this language"),
        description=_(
            "Used for every appointment in this language whose department has no"
            " set of its own. Only one set per language can be the default."
        ),
    )
    departments = wtforms.SelectMultipleField(
        _("Departments"),
        coerce=int,
        description=_("This set is used for the appointments of these departments."),
    )


def _kind_fields():
    fields = {}
    for kind in KINDS:
        fields[subject_field(kind)] = wtforms.StringField(
            _("Subject"), [v.DataRequired(), v.Length(max=SUBJECT_MAX)], filters=[_strip]
        )
        fields[body_field(kind)] = wtforms.TextAreaField(
            _("Text"), [v.DataRequired(), v.Length(max=BODY_MAX)], filters=[_strip]
        )
    return fields


TemplateSetForm = type("TemplateSetForm", (_BaseForm,), _kind_fields())
