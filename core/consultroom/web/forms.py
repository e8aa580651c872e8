"""Form handling on WTForms: translated built-in messages, and one helper for
the common "show the form, validate the post, save or show errors" view."""
import wtforms
from wtforms.fields.choices import SelectChoice


def options(pairs):
    """``(value, label)`` pairs as WTForms select choices."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


class Form(wtforms.Form):
    """A form bound to a request; WTForms ships nl, de and sv messages."""

    def __init__(self, request, bind=True, **kwargs):
        """``bind=False`` shows the form empty even on a POST (for the second
        form of a page that posted the first)."""
        formdata = request.POST if bind and request.method == "POST" else None
        meta = {"locales": [request.locale_name, "en"]}
        super().__init__(formdata, meta=meta, **kwargs)
        self.request = request

    def add_error(self, field, message):
        """Attach a (translation string) error to a field after validation."""
        translated = self.request.localizer.translate(message)
        getattr(self, field).errors = [*getattr(self, field).errors, translated]

    @property
    def problems(self):
        return any(field.errors for field in self)


class EmailAddress(wtforms.validators.Regexp):
    """The shape of an e-mail address. WTForms' own ``Email`` needs the
    optional ``email_validator`` package and fails at run time without it.
    Single-label domains pass: the demo's superuser is provider@localhost."""

    def __init__(self, message=None):
        super().__init__(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)*$", message=message)

    def __call__(self, form, field, message=None):
        # WTForms' own message, so its nl and de catalogues translate it.
        return super().__call__(form, field, message or self.message
                                or field.gettext("Invalid email address."))
