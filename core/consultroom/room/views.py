"""The consultation room's pages: the staff room, the guest's invitation
link, adding a participant during the call, and shared files."""

from urllib.parse import quote

import wtforms
from pyramid.csrf import check_csrf_token
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.response import FileResponse
from pyramid.view import view_config
from sqlalchemy import select
from wtforms import validators as v

from consultroom.appointments.models import Appointment
from consultroom.audit import record
from consultroom.clients.models import Participant
from consultroom.i18n import _
from consultroom.ratelimit import find_by_token
from consultroom.realtime import publish_after_commit, room_channel
from consultroom.realtime.pages import page_config, room_settings
from consultroom.room import files, quick
from consultroom.room.models import Room, RoomInvite, SharedFile
from consultroom.room.participant_link import place_by_token
from consultroom.room.service import file_info, invite_by_token, may_enter
from consultroom.waitingroom.models import IN_ROOM, Visit
from consultroom.web import ID
from consultroom.web.errors import not_found
from consultroom.web.forms import EmailAddress, Form
from consultroom.web.sites import org_url

ROOM_ID = "{room:[A-Za-z0-9_-]{20,43}}"
TOKEN = "{token:[A-Za-z0-9_-]{20,64}}"  # a route pattern, not a password  # nosec B105


def _open_room(request):
    room = request.dbsession.scalar(
        select(Room).where(
            Room.id == request.matchdict["room"],
            Room.organisation_id == request.organisation.id,
            Room.ended_at.is_(None),
        )
    )
    if room is None:
        raise HTTPNotFound()
    return room


def _staff_room(request):
    room = _open_room(request)
    if not may_enter(room, request.user.id):
        raise HTTPNotFound()
    return room


def _room_page(request, room, role, name, hello):
    options = request.organisation.options
    request.response.headers["Referrer-Policy"] = "no-referrer"
    request.response.cache_control = "no-store"
    return {
        "realtime": page_config(request, hello, room),
        "room": room,
        "role": role,
        "name": name,
        "file_sharing": options["file_sharing"],
        "screen_sharing": options["screen_sharing"],
        "settings": room_settings(request.organisation),
    }


@view_config(route_name="room", renderer="room/room.html", permission="staff")
def room_page(request):
    room = _staff_room(request)
    participants = request.dbsession.scalars(
        select(Participant)
        .where(Participant.organisation_id == request.organisation.id)
        .order_by(Participant.last_name)
    ).all()
    return {
        **_room_page(request, room, "staff", request.user.name, {"type": "hello", "role": "staff"}),
        "participants": [
            {"id": p.id, "name": p.display_name, "email": p.email} for p in participants
        ],
        "invite_url": request.route_path("room_participants", room=room.id),
        "client_link": quick.client_link(request, room),
    }


@view_config(route_name="room_join", renderer="room/room.html")
def join_page(request):
    invite = find_by_token(
        request,
        lambda: invite_by_token(
            request.dbsession, request.organisation.id, request.matchdict["token"]
        ),
    )
    if invite is None:
        return not_found(request)
    hello = {"type": "hello", "role": "guest", "token": invite.token}
    return {
        **_room_page(request, invite.room, "guest", invite.name, hello),
        "participants": [],
        "invite_url": None,
        "client_link": None,
    }


class InviteForm(Form):
    participant_id = wtforms.IntegerField(validators=[v.Optional()])
    name = wtforms.StringField(
        _("Name"), [v.Optional(), v.Length(max=200)], filters=[lambda s: (s or "").strip()]
    )
    email = wtforms.StringField(
        _("E-mail"),
        [v.Optional(), v.Length(max=254), EmailAddress()],
        filters=[lambda s: (s or "").strip()],
    )


def _invitee(request, form):
    """``(name, email, participant)`` from the form, or an error message."""
    if form.participant_id.data:
        participant = request.dbsession.scalar(
            select(Participant).where(
                Participant.id == form.participant_id.data,
                Participant.organisation_id == request.organisation.id,
            )
        )
        if participant is None or not participant.email:
            return None, _("This participant has no e-mail address.")
        return (participant.display_name, participant.email, participant), None
    if form.name.data and form.email.data:
        return (form.name.data, form.email.data, None), None
    return None, _("Choose a participant, or give a name and an e-mail address.")


def _json_error(request, status, message):
    request.response.status = status
    return {"error": request.localizer.translate(message)}


@view_config(
    route_name="room_participants", renderer="json", permission="staff", request_method="POST"
)
def add_participant(request):
    room = _staff_room(request)
    form = InviteForm(request)
    if not form.validate():
        return _json_error(request, 400, _("Check the name and e-mail address."))
    invitee, problem = _invitee(request, form)
    if problem:
        return _json_error(request, 400, problem)
    name, email, participant = invitee
    invite = RoomInvite(
        room_id=room.id,
        name=name,
        email=email,
        participant_id=participant.id if participant else None,
        created_by_id=request.user.id,
    )
    request.dbsession.add(invite)
    request.dbsession.flush()
    url = org_url(request, request.organisation, f"/join/{invite.token}")
    request.queue_mail(
        email,
        "room_invite",
        {
            "name": name,
            "url": url,
            "organisation": request.organisation.name,
            "practitioner": request.user.name,
        },
        _("Join the video consultation now"),
        request.organisation.language,
    )
    record(request, "room.invite", object_type="room", object_id=room.id, email=email)
    return {"ok": True, "name": name}


def _member_room(request):
    """The open room, if the requester is admitted to it: staff by session,
    a client by the appointment token, a guest by the invitation token, an
    extra participant by their own link's token (the room of their
    appointment)."""
    room = _open_room(request)
    token = request.headers.get("X-Room-Token") or request.params.get("token")
    if not token:
        user = request.user
        if user is None or not may_enter(room, user.id):
            raise HTTPNotFound()
        if request.method == "POST":
            check_csrf_token(request)
        return room
    if not isinstance(token, str) or len(token) > 64:
        raise HTTPNotFound()
    invite = invite_by_token(request.dbsession, request.organisation.id, token)
    if invite is not None and invite.room_id == room.id:
        return room
    place = place_by_token(request.dbsession, request.organisation.id, token)
    if place is not None and room.appointment_id == place.appointment_id:
        return room
    client_here = request.dbsession.scalar(
        select(Visit.id)
        .join(Appointment)
        .where(
            Appointment.token == token,
            Appointment.organisation_id == request.organisation.id,
            Visit.room_id == room.id,
            Visit.state == IN_ROOM,
        )
    )
    if client_here is None:
        raise HTTPNotFound()
    return room


@view_config(
    route_name="room_files", renderer="json", request_method="POST", require_csrf=False
)  # token-authenticated; staff are CSRF-checked in _member_room
def upload(request):
    room = _member_room(request)
    if not request.organisation.options["file_sharing"]:
        raise HTTPForbidden()
    upload = request.POST.get("file")
    if not hasattr(upload, "file"):
        return _json_error(request, 400, _("Choose a file."))
    settings = request.registry.settings
    name = files.clean_name(upload.filename or "")
    try:
        data = files.read_limited(upload.file, files.max_bytes(settings))
        content_type = files.sniff(name, data)
    except files.FileRejected as exc:
        return _json_error(request, 400, exc.args[0])
    path = files.store(settings, room.id, data)
    # Should the transaction fail, the sweep removes the orphan with the room.
    shared = SharedFile(
        room_id=room.id,
        name=name,
        size=len(data),
        content_type=content_type,
        path=path,
        uploaded_by=request.user.name if request.user else "",
    )
    request.dbsession.add(shared)
    request.dbsession.flush()
    info = file_info(shared)
    publish_after_commit(request, room_channel(room.id), {"type": "file", **info})
    return info


@view_config(route_name="room_file", request_method="GET")
def download(request):
    room = _member_room(request)
    shared = request.dbsession.scalar(
        select(SharedFile).where(
            SharedFile.id == int(request.matchdict["id"]), SharedFile.room_id == room.id
        )
    )
    if shared is None:
        raise HTTPNotFound()
    response = FileResponse(
        shared.path, request=request, content_type=shared.content_type.split(";")[0]
    )
    if shared.content_type.startswith("text/"):
        response.charset = "utf-8"
    ascii_name = shared.name.encode("ascii", "replace").decode().replace('"', "")
    response.content_disposition = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(shared.name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def includeme(config):
    org = "organisation"
    config.add_route("room", f"/room/{ROOM_ID}", site=org)
    config.add_route("room_participants", f"/room/{ROOM_ID}/participants", site=org)
    config.add_route("room_files", f"/room/{ROOM_ID}/files", site=org)
    config.add_route("room_file", f"/room/{ROOM_ID}/files/{ID}", site=org)
    config.add_route("room_join", f"/join/{TOKEN}", site=org)
    config.scan(__name__)
