"""The availability block form."""

from datetime import date, datetime

import wtforms
from wtforms import validators as v

from consultroom.i18n import _
from consultroom.scheduling.models import BOOKING, BOTH, PURPOSES, WALK_IN
from consultroom.web.forms import Form, options

WEEKDAYS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)
WEEKLY, ONCE = "weekly", "once"
PURPOSE_LABELS = {
    BOTH: _("Booking and walk-ins"),
    BOOKING: _("Booking only"),
    WALK_IN: _("Walk-ins only"),
}
MAX_MINUTES = 8 * 60  # appointments.service.MAX_DURATION: a slot must be bookable


def stop_if_unreadable(form, field):
    # "abc" is not a number or a date; saying it is also out of range confuses.
    if field.process_errors:
        raise v.StopValidation()


def _minutes(label, minimum):
    return wtforms.IntegerField(
        label, [v.InputRequired(), stop_if_unreadable, v.NumberRange(minimum, MAX_MINUTES)]
    )


class BlockForm(Form):
    purpose = wtforms.SelectField(
        _("Used for"),
        choices=options(PURPOSE_LABELS.items()),
        validate_choice=False,  # checked in check(), with a message people understand
        description=_(
            "Booking: clients book the slots online. Walk-ins: the walk-in widget offers you"
            " during this time, while your walk-in switch is on and you are not in a"
            " consultation."
        ),
    )
    kind = wtforms.SelectField(
        _("Repeats"), choices=options(((WEEKLY, _("Every week")), (ONCE, _("Once"))))
    )
    weekday = wtforms.SelectField(
        _("Day of the week"), coerce=int, choices=options(enumerate(WEEKDAYS))
    )
    valid_from = wtforms.DateField(
        _("From"), [v.Optional()], description=_("Weekly only. Leave empty to start now.")
    )
    valid_until = wtforms.DateField(
        _("Until"), [v.Optional()], description=_("Weekly only. Leave empty for no end.")
    )
    on_date = wtforms.DateField(_("Date"), [v.Optional()], description=_("Once only."))
    start_time = wtforms.TimeField(_("Start time"), [v.InputRequired()])
    end_time = wtforms.TimeField(_("End time"), [v.InputRequired()])
    slot_minutes = _minutes(_("Consultation length (minutes)"), 5)
    gap_minutes = _minutes(_("Gap between consultations (minutes)"), 0)

    def check(self):
        """Validate the fields and the rules between them."""
        ok = self.validate()
        if "purpose" in self and self.purpose.data not in PURPOSES:
            self.add_error("purpose", _("Choose what this time is used for."))
        if self.kind.data == ONCE and not self.on_date.errors and self.on_date.data is None:
            self.add_error("on_date", _("Give the date."))
        if (
            self.kind.data == WEEKLY
            and self.valid_from.data
            and self.valid_until.data
            and self.valid_until.data < self.valid_from.data
        ):
            self.add_error("valid_until", _("The end date must not be before the start date."))
        start, end = self.start_time.data, self.end_time.data
        if start and end and not self.end_time.errors:
            if end <= start:
                self.add_error("end_time", _("The end time must be after the start time."))
            elif (
                self.slot_minutes.data
                and not self.slot_minutes.errors
                and _minutes_between(start, end) < self.slot_minutes.data
            ):
                self.add_error(
                    "slot_minutes",
                    _("One consultation does not fit between the start and end time."),
                )
        return ok and not self.problems

    def apply(self, block):
        weekly = self.kind.data == WEEKLY
        if "purpose" in self:
            block.purpose = self.purpose.data
        block.weekday = self.weekday.data if weekly else None
        block.valid_from = self.valid_from.data if weekly else None
        block.valid_until = self.valid_until.data if weekly else None
        block.on_date = None if weekly else self.on_date.data
        for name in ("start_time", "end_time", "slot_minutes", "gap_minutes"):
            setattr(block, name, self[name].data)


def _minutes_between(start, end):
    return (datetime.combine(date.min, end) - datetime.combine(date.min, start)).seconds // 60
