"""The appointments feature's hooks: its menu entries, the client's
appointments on the client page, and refusing to delete a client who still
has appointments to come."""

from pyramid.renderers import render
from sqlalchemy import func, select

from consultroom.appointments.access import visible_appointments
from consultroom.appointments.models import Appointment, Status
from consultroom.db import utcnow
from consultroom.hookspecs import MenuItem, fills_slots, hookimpl
from consultroom.i18n import _
from consultroom.tenancy.timezones import to_local


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("staff"):
        return None
    t = request.localizer.translate
    return [
        MenuItem(t(_("Today")), request.route_path("appointments_today"), order=15),
        MenuItem(t(_("Appointments")), request.route_path("appointments"), order=25),
        MenuItem(t(_("Quick consultation")), request.route_path("appointment_quick"), order=27),
    ]


@hookimpl
@fills_slots("client")
def consultroom_template_slot(request, slot, context):
    if slot != "client":
        return None
    client = context["client"]
    appointments = request.dbsession.scalars(
        visible_appointments(request)
        .where(Appointment.client_id == client.id)
        .order_by(Appointment.starts_at.desc())
    ).all()
    org = request.organisation
    return render(
        "appointments/_client.html",
        {"appointments": [(a, to_local(a.starts_at, org)) for a in appointments]},
        request=request,
    )


@hookimpl
def consultroom_client_delete_blockers(request, client):
    # All of the client's upcoming appointments, also those this user cannot
    # see: deleting the client would leave them without anyone to invite.
    upcoming = request.dbsession.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.organisation_id == request.organisation.id,
            Appointment.client_id == client.id,
            Appointment.status == Status.scheduled,
            Appointment.starts_at >= utcnow(),
        )
    )
    if upcoming:
        return [
            _(
                "${name} has ${n} upcoming appointment(s): cancel them first.",
                mapping={"name": client.display_name, "n": upcoming},
            )
        ]
    return None
