"""The staff forms for appointments: new and edit, quick consultation, and
the list's filters. Choices are filled in by the views, from what the staff
member may see; a value outside them is refused by WTForms. The client and
the individual participants are typed, not chosen from lists of everyone
(``clients.picker``)."""

from datetime import date

import wtforms
from wtforms import validators as v

from consultroom.appointments.service import MAX_DURATION
from consultroom.clients.picker import ClientField, ParticipantsField
from consultroom.i18n import _
from consultroom.web.forms import Form, options

DEFAULT_DURATION = 20
QUICK_DURATION = 20
# Far enough for any real booking; and a date this side of year 9999 can
# always be converted between time zones.
EARLIEST = date(2000, 1, 1)
YEARS_AHEAD = 5


def optional_id(value):
    """A select's value as an id; "" (the "none" choice) as None."""
    return None if value in ("", None, "None") else int(value)


def choose(message):
    """A validator for an ``optional_id`` select that must have a value."""

    def check(form, field):
        if field.data is None:
            raise v.StopValidation(message)

    return check


def _sensible_date(form, field):
    if field.data is None:
        return
    latest = date.today().replace(year=date.today().year + YEARS_AHEAD)
    if not EARLIEST <= field.data <= latest:
        raise v.ValidationError(
            _(
                "Check the year: choose a date between 2000 and ${year}.",
                mapping={"year": latest.year},
            )
        )


def _select(label, message=None, **kw):
    checks = [choose(message)] if message else []
    return wtforms.SelectField(
        label,
        checks,
        coerce=optional_id,
        invalid_choice_message=_("Choose one of the options."),
        **kw,
    )


def _client(required=None):
    return ClientField(
        _("Client"),
        required=required,
        description=_("Type part of the name, client number or e-mail address.")
        if required
        else None,
    )


def _multi(label, description=None):
    return wtforms.SelectMultipleField(
        label, coerce=int, description=description, render_kw={"size": 6}
    )


def _duration(default):
    return wtforms.IntegerField(
        _("Duration (minutes)"),
        [v.InputRequired(), v.NumberRange(5, MAX_DURATION)],
        default=default,
        render_kw={"min": 5, "max": MAX_DURATION},
    )


def _groups_field():
    return _multi(
        _("Participants: whole groups"), _("Everyone in the chosen groups joins the appointment.")
    )


def _people_field():
    return ParticipantsField(
        _("Participants: individual people"),
        description=_("Type part of a name to add someone; untick to leave them out."),
    )


class ChoosesParticipants:
    """For a form with ``group_ids`` and ``participant_ids``."""

    def participants(self, groups):
        """The chosen people plus everyone in the chosen groups, each once."""
        chosen = {p.id: p for p in self.participant_ids.data}
        for group_id in self.group_ids.data:
            chosen.update((p.id, p) for p in groups[group_id].participants)
        return list(chosen.values())


class AppointmentForm(ChoosesParticipants, Form):
    client_id = _client(_("Choose a client."))
    # A new appointment only (the view removes it on edit): the client is
    # made from the fields below it (``appointments.newclient``).
    new_client = wtforms.BooleanField(_("A new client: fill in their details below"))
    practitioner_id = _select(_("Practitioner"))
    # Removed by the view unless departments are strictly segregated.
    department_id = _select(
        _("Department"),
        description=_(
            "Instead of a practitioner: the client waits in the department's waiting room."
        ),
    )
    date = wtforms.DateField(
        _("Date"), [v.InputRequired(), _sensible_date], format=["%Y-%m-%d", "%d-%m-%Y"]
    )
    start_time = wtforms.TimeField(
        _("Start time"), [v.InputRequired()], format=["%H:%M", "%H:%M:%S"]
    )
    duration_minutes = _duration(DEFAULT_DURATION)
    message = wtforms.TextAreaField(
        _("Personal message for the e-mail"),
        [v.Length(max=2000)],
        filters=[lambda text: (text or "").replace("\x00", "").strip()],
    )
    group_ids = _groups_field()
    participant_ids = _people_field()


class QuickForm(ChoosesParticipants, Form):
    client_id = _client(_("Choose a client."))
    duration_minutes = _duration(QUICK_DURATION)
    group_ids = _groups_field()
    participant_ids = _people_field()
    send_link = wtforms.BooleanField(_("Also e-mail the link to the client"))


STATUS_CHOICES = (("", _("All")), ("scheduled", _("Scheduled")), ("cancelled", _("Cancelled")))


class FilterForm(Form):
    """The list's filters, read from the query string."""

    date_from = wtforms.DateField(
        _("From"), [v.Optional(), _sensible_date], format=["%Y-%m-%d", "%d-%m-%Y"]
    )
    date_to = wtforms.DateField(
        _("Until"), [v.Optional(), _sensible_date], format=["%Y-%m-%d", "%d-%m-%Y"]
    )
    practitioner = _select(_("Practitioner"))
    department = _select(_("Department"))
    client = _client()
    # "All" when the query string has no status: without a default the first
    # load's None is no choice and the list shows "Not a valid choice".
    status = wtforms.SelectField(_("Status"), choices=options(STATUS_CHOICES), default="")

    def __init__(self, request):
        super().__init__(request, bind=False)
        self.process(request.GET)


def with_none(label, pairs):
    """Select choices with a first "none" entry."""
    return options([("", label), *pairs])
