"""An extra participant's own link to an appointment, /p/<token> (family,
home care, an interpreter added to it): open in the same window as the
client's link, in the participant's language. Their socket (hello role
"participant") is a room peer like a guest's and enters the room with the
client, as the organisation's setting "participants_join" says:

- "direct": until the client is admitted the page says the consultation has
  not started; the participant enters the room by themselves when it does
  (the client's ``_admit`` on the bus), or at once when it already has.
- "waiting": the participant waits in the waiting room like the client; the
  client's entry on the staff's waiting list names them, and they come in
  with the client on call-in.
"""

from pyramid.renderers import render_to_response
from pyramid.view import view_config
from sqlalchemy import select, update
from zope.sqlalchemy import mark_changed

from consultroom.appointments.admission import keep_private
from consultroom.appointments.link import arrival, closed_page
from consultroom.appointments.models import Appointment, AppointmentParticipant
from consultroom.appointments.service import link_state
from consultroom.clients.contact import language_of
from consultroom.clients.models import Participant
from consultroom.db import utcnow
from consultroom.i18n import _, speak
from consultroom.ratelimit import find_by_token
from consultroom.realtime import client_channel
from consultroom.realtime.connection import Refused
from consultroom.realtime.pages import page_config
from consultroom.realtime.tokens import by_token
from consultroom.room.models import Room
from consultroom.room.sockets import RoomRole
from consultroom.waitingroom import live
from consultroom.waitingroom.models import ENDED, IN_ROOM, Visit
from consultroom.waitingroom.sockets import organisation_of
from consultroom.waitingroom.texts import (
    appointment_department_id,
    follow_up_for,
    service_messages_for,
)
from consultroom.web.errors import not_found

TOKEN = "{token:[A-Za-z0-9_-]{20,64}}"  # a route pattern, not a password  # nosec B105
REFUSED = _("This link does not open the consultation now.")
# The waiting page's state while a participant with direct join waits.
NOT_STARTED = "not_started"


def place_by_token(dbsession, organisation_id, token):
    """The participant's place (``AppointmentParticipant``) whose link token
    is ``token``, in an appointment of this organisation; else None."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        return None
    return dbsession.scalar(
        select(AppointmentParticipant)
        .join(Appointment, Appointment.id == AppointmentParticipant.appointment_id)
        .where(
            AppointmentParticipant.token == token,
            Appointment.organisation_id == organisation_id,
        )
    )


def waits(organisation):
    """Whether participants wait in the waiting room (else they join directly)."""
    return organisation.options["participants_join"] == "waiting"


@view_config(route_name="participant_link")
def participant_page(request):
    org = request.organisation
    token = request.matchdict["token"]
    # Another organisation's token is no token here: a 404 counted like a guess.
    place = find_by_token(request, lambda: place_by_token(request.dbsession, org.id, token))
    if place is None:
        return not_found(request)
    appointment, participant = place.appointment, place.participant
    speak(request, language_of(participant, org))
    keep_private(request)
    now = utcnow()
    state = link_state(appointment, org, now)
    if state != "open":
        return closed_page(request, appointment, state)
    hello = {"type": "hello", "role": "participant", "token": token}
    return render_to_response(
        "waitingroom/waiting.html",
        {
            "appointment": appointment,
            "organisation": org,
            "state": arrival(appointment, now) if waits(org) else NOT_STARTED,
            "participant": participant,
            "self_name": participant.display_name,
            "realtime": page_config(request, hello),
        },
        request=request,
        response=request.response,
    )


# -- the socket -----------------------------------------------------------------------


def _set_waiting(dbsession, appointment_id, participant_id, peer, events, only_peer=None):
    """Mark the participant waiting with socket ``peer`` (None: not waiting;
    ``only_peer``: only if that socket still is theirs), and show the
    client's waiting entry again with the names."""
    place = AppointmentParticipant.__table__
    query = update(place).where(
        place.c.appointment_id == appointment_id, place.c.participant_id == participant_id
    )
    if only_peer is not None:
        query = query.where(place.c.waiting_peer == only_peer)
    changed = dbsession.execute(query.values(waiting_peer=peer)).rowcount
    mark_changed(dbsession)
    visit = dbsession.scalar(select(Visit).where(Visit.appointment_id == appointment_id))
    if changed and visit is not None:
        live.touch(events, visit)


class ParticipantRole(RoomRole):
    """An extra participant of an appointment, by their own link. In the
    room a peer like a guest (and named so at the realtime door: it may send
    what a guest may)."""

    name = "guest"

    def __init__(self, connection, appointment_id, participant_id, display_name, waiting):
        super().__init__(connection)
        self.appointment_id = appointment_id
        self.participant_id = participant_id
        self.display_name = display_name
        self.waits = waiting  # the organisation's "participants_join" is "waiting"

    def start(self):
        # Before looking, so that the client's admission right after is not missed.
        self.conn.subscribe(client_channel(self.appointment_id))
        self.refresh()

    def refresh(self):
        message = self.conn.transaction(self._state)
        if message is not None:
            self.conn.send(message)

    def _open_room(self, dbsession):
        """The room the client was admitted into, if it is still open."""
        visit = dbsession.scalar(select(Visit).where(Visit.appointment_id == self.appointment_id))
        if visit is None or visit.state != IN_ROOM:
            return visit, None
        room = dbsession.get(Room, visit.room_id)
        return visit, room if room is not None and room.ended_at is None else None

    def _state(self, dbsession, events):
        """What the participant sees now: the room, the end, or the wait
        (None: already in the room)."""
        visit, room = self._open_room(dbsession)
        if room is not None:
            if self.room == room.id:
                return None
            if self.waits:
                _set_waiting(dbsession, self.appointment_id, self.participant_id, None, events)
            return {"type": "admitted", **self.enter(dbsession, events, room, self.display_name)}
        if visit is not None and visit.state == ENDED:
            if self.ended:
                return None
            self.ended = True
            return {"type": "ended", "follow_up": self._follow_up(dbsession)}
        if self.waits:
            _set_waiting(
                dbsession, self.appointment_id, self.participant_id, self.conn.peer, events
            )
        return self._waiting(dbsession)

    def _participant(self, dbsession):
        return dbsession.get(Participant, self.participant_id)

    def _follow_up(self, dbsession):
        appointment = dbsession.get(Appointment, self.appointment_id)
        organisation = organisation_of(self.conn, dbsession)
        return follow_up_for(dbsession, organisation, appointment, self._participant(dbsession))

    def follow_up(self, message):
        # In the participant's own language.
        return self.conn.transaction(lambda dbsession, _events: self._follow_up(dbsession))

    def _waiting(self, dbsession):
        appointment = dbsession.get(Appointment, self.appointment_id)
        organisation = organisation_of(self.conn, dbsession)
        department_id = appointment_department_id(appointment)
        return {
            "type": "waiting",
            "visit": None,
            "arrival": arrival(appointment, utcnow()) if self.waits else NOT_STARTED,
            "starts_at": appointment.starts_at.isoformat() + "Z",
            "note": None,
            "service_messages": service_messages_for(
                dbsession, organisation, self._participant(dbsession), department_id
            ),
        }

    def on_bus(self, message):
        kind = message.get("type")
        if kind in ("_admit", "_resync"):
            self.refresh()
        elif kind in ("_sent_back", "_replaced", "note"):
            pass  # the client's: a participant stays where they are
        else:
            super().on_bus(message)

    def stop(self):
        super().stop()
        if self.waits:
            self.conn.transaction(
                lambda db, events: _set_waiting(
                    db,
                    self.appointment_id,
                    self.participant_id,
                    None,
                    events,
                    only_peer=self.conn.peer,
                )
            )


def _place(connection, token):
    return place_by_token(connection.request.dbsession, connection.organisation_id, token)


def _participant(connection, place):
    organisation = connection.request.organisation
    if link_state(place.appointment, organisation) != "open":
        raise Refused("unauthorized", REFUSED)
    return ParticipantRole(
        connection,
        place.appointment_id,
        place.participant_id,
        place.participant.display_name,
        waits(organisation),
    )


def participant(connection, hello):
    return by_token(connection, hello, _place, _participant, REFUSED)


def includeme(config):
    config.add_route("participant_link", f"/p/{TOKEN}", site="organisation")
    config.add_realtime_role("participant", participant)
    config.scan(__name__)
