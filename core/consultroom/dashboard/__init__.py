"""The staff home page: the practitioner's day (today's appointments and
what became of them: ``day``), who is waiting now, a quick consultation,
an organisation admin's set-up checklist while the organisation is new
(``checklist``), and what enabled features put in the ``dashboard`` slot."""

from pyramid.view import view_config

from consultroom.audit import record
from consultroom.dashboard.checklist import open_steps
from consultroom.dashboard.day import todays_rows
from consultroom.tenancy.timezones import to_local
from consultroom.waitingroom.live import Staff, waiting_visits


@view_config(route_name="home", renderer="dashboard.html", permission="staff")
def home(request):
    grace = request.registry["realtime_limits"].grace_seconds
    day = todays_rows(request, grace)
    waiting = waiting_visits(request.dbsession, Staff.of(request.user), grace)
    # Client names are shown: an audited read, like the appointment lists.
    ids = sorted({row.appointment.id for row in day} | {v.appointment_id for v in waiting})
    record(request, "appointment.list", "appointment", ids=ids, page="dashboard")
    org = request.organisation
    since = [(v, to_local(v.arrived_at, org) if v.arrived_at else None) for v in waiting]
    return {"day": day, "waiting": since, "steps": open_steps(request)}


def includeme(config):
    config.add_route("home", "/", site="organisation")
    config.scan(__name__)
