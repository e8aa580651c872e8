"""A visitor walking in through the walk-in widget, for the tests of what
happens after (admission steps, a walk-in's rate): a practitioner available
all day with walk-ins switched on, and the widget's form sent."""

from datetime import time

from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Kind
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.waitingroom.models import WalkInSwitch
from consultroom.widgets.models import WalkInWidget


def walk_in(dbsession, make_user, app, org, last_name="Visser"):
    """(the page the visitor lands on, their walk-in appointment). The
    practitioner is a new one: another's booked appointment now would keep
    them from walk-ins."""
    doctor = make_user(org, role=Role.practitioner, name="Dr. Walk-in")
    widget = WalkInWidget(organisation_id=org.id, name="Walk-in", intake_fields=["last_name"])
    dbsession.add(widget)
    # Available all day, every day of the week.
    for weekday in range(7):
        dbsession.add(
            AvailabilityBlock(
                organisation_id=org.id,
                practitioner_id=doctor.id,
                weekday=weekday,
                start_time=time(0),
                end_time=time(23, 59, 59),
            )
        )
    # The widget offers only whoever has switched walk-ins on.
    dbsession.add(WalkInSwitch(user_id=doctor.id, organisation_id=org.id, available=True))
    dbsession.flush()
    form = app.get(f"/walk-in/{widget.public_id}/{doctor.id}").forms[0]
    form["last_name"] = last_name
    if "terms" in form.fields:
        form["terms"] = True
    link = form.submit(status=303).follow()
    appointment = dbsession.scalars(
        select(Appointment).where(
            Appointment.kind == Kind.walk_in, Appointment.organisation_id == org.id
        )
    ).one()
    return link, appointment
