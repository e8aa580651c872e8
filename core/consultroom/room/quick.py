"""Consultations that start now, in the room: the quick consultation (a
client, now, with the logged-in staff member), the same started from the
clients list's camera button, and an empty room to which the staff member
then invites someone ("Add participant").

The staff member lands in the open room at once (force start: the room and
the client's visit exist before the client does), so that the client who
opens the link goes straight in, without a call-in. The room page shows the
client's link to copy, and sends it by e-mail on request."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consultroom.appointments import admission
from consultroom.appointments.display import consult_link
from consultroom.appointments.forms import QUICK_DURATION, QuickForm
from consultroom.appointments.models import Kind, Origin
from consultroom.appointments.service import AppointmentError, create_appointment
from consultroom.audit import record
from consultroom.clientmail import send_client_mail
from consultroom.clients.access import client_or_404
from consultroom.clients.contact import client_mail_enabled
from consultroom.clients.models import Group
from consultroom.clients.picker import visible_client
from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.realtime import publish_after_commit
from consultroom.realtime.events import Events
from consultroom.room import service as rooms
from consultroom.room.models import Room
from consultroom.waitingroom import live
from consultroom.web import ID, flash


def _groups(request):
    return request.dbsession.scalars(
        select(Group)
        .where(Group.organisation_id == request.organisation.id)
        .options(selectinload(Group.participants))
        .order_by(Group.name, Group.id)
    ).all()


def _publish(request, events):
    """The socket messages of a change made in this request, after its commit."""
    events.finish(request.dbsession)
    for channel, message in events.messages:
        publish_after_commit(request, channel, message)


def start_in_room(request, appointment):
    """Open ``appointment``'s room with the logged-in staff member in it and
    its client admitted ahead (force start): the client's link leads
    straight in. While the client has admission steps to finish, the room
    opens without them: they wait once done, and are called in as usual."""
    staff = request.identity
    events = Events(request.registry["realtime_limits"], request)
    if admission.unfinished(request, appointment):
        room = rooms.open_room(request, appointment, staff)
        flash(
            request,
            _(
                "${name} has steps to finish before the consultation: call them in from"
                " the waiting list once they are there.",
                mapping={"name": appointment.client.display_name},
            ),
            "info",
        )
    else:
        room = rooms.force_start(request, live.Staff.of(staff), appointment.id, events)
    _publish(request, events)
    return room


def _quick(request, client, duration_minutes, participants=(), notify=False):
    """A quick consultation with ``client`` starting now: its room, opened."""
    appointment = create_appointment(
        request,
        client=client,
        practitioner=request.identity,
        starts_at=utcnow().replace(microsecond=0),
        duration_minutes=duration_minutes,
        kind=Kind.quick,
        participants=participants,
        notify=notify,
        origin=Origin.staff,
    )
    return start_in_room(request, appointment)


def _to_room(request, room):
    return HTTPSeeOther(request.route_path("room", room=room.id))


@view_config(route_name="appointment_quick", renderer="appointments/quick.html", permission="staff")
def appointment_quick(request):
    """A consultation starting now, with the logged-in staff member, in the room."""
    groups = {g.id: g for g in _groups(request)}
    form = QuickForm(request, client_id=visible_client(request, request.GET.get("client")))
    form.group_ids.choices = [(g.id, g.name) for g in groups.values()]
    problem = None
    if request.method == "POST" and form.validate():
        try:
            room = _quick(
                request,
                form.client_id.data,
                form.duration_minutes.data,
                form.participants(groups),
                notify=form.send_link.data,
            )
        except AppointmentError as exc:
            problem = exc.args[0]
        else:
            return _to_room(request, room)
    return {"form": form, "problem": problem}


@view_config(route_name="client_consult", permission="staff", request_method="POST")
def client_consult(request):
    """The clients list's camera button: a quick consultation with this
    client, now (their link is shown in the room, not mailed)."""
    client = client_or_404(request, int(request.matchdict["id"]))
    try:
        room = _quick(request, client, QUICK_DURATION)
    except AppointmentError as exc:
        flash(request, exc.args[0], "error")
        return HTTPSeeOther(request.route_path("clients"))
    return _to_room(request, room)


@view_config(route_name="room_empty", permission="staff", request_method="POST")
def empty_room(request):
    """A room without an appointment: the staff member invites whom they
    want from inside it ("Add participant")."""
    room = Room(
        organisation_id=request.organisation.id,
        created_by_id=request.identity.id,
        started_at=utcnow(),
    )
    request.dbsession.add(room)
    request.dbsession.flush()
    request.hooks.consultroom_room_opened(request=request, room=room)
    record(request, "room.open", object_type="room", object_id=room.id)
    return _to_room(request, room)


# ---- the client's link in the room


def client_link(request, room):
    """What the staff room page shows of the client's link: ``{"url",
    "name", "can_mail", "send_url"}`` in a quick consultation's room (also
    once the client is in: to pass on again after a lost connection), else
    None (an empty room, a booked appointment's room)."""
    appointment = room.appointment
    if appointment is None or appointment.client is None or appointment.kind is not Kind.quick:
        return None
    return {
        "url": consult_link(request, appointment),
        "name": appointment.client.display_name,
        "can_mail": client_mail_enabled(request.organisation, appointment.client),
        "send_url": request.route_path("room_send_link", room=room.id),
    }


@view_config(route_name="room_send_link", permission="staff", request_method="POST")
def send_link(request):
    """E-mail the client their link (the invitation mail) from the room."""
    room = rooms.open_room_of(request.dbsession, request.organisation.id, request.matchdict["room"])
    if room is None or not rooms.may_enter(room, request.identity.id):
        raise HTTPNotFound()
    appointment = room.appointment
    sent = (
        appointment is not None
        and appointment.client is not None
        and send_client_mail(request, appointment, "invitation") is not None
    )
    if sent:
        record(request, "appointment.send_link", "appointment", appointment.id)
        flash(
            request,
            _(
                "The link is e-mailed to ${name}.",
                mapping={"name": appointment.client.display_name},
            ),
            "success",
        )
    else:
        flash(
            request, _("The link cannot be e-mailed: give it to the client another way."), "error"
        )
    return _to_room(request, room)


def includeme(config):
    org = "organisation"
    config.add_route("appointment_quick", "/appointments/quick", site=org)
    config.add_route("client_consult", f"/clients/{ID}/consult", site=org)
    config.add_route("room_empty", "/room/new", site=org)
    config.add_route("room_send_link", "/room/{room:[A-Za-z0-9_-]{20,43}}/send-link", site=org)
    config.scan(__name__)
