"""The room's captions messages (gated per organisation by the realtime
door, like every plugin's ``translation.*`` type):

- ``translation.switch`` ``{"on": bool}``: captions on or off in the room the
  socket is in; everyone in the room hears ``translation.state``;
- ``translation.languages`` ``{"spoken": "en", "caption": "nl"}``: this
  participant's spoken and caption language (one of the languages offered),
  told to the room (the worker recognises the speaker in the first and
  translates for the listener into the second).
"""

from consultroom.realtime import room_channel
from consultroom.realtime.connection import Refused
from consultroom.realtime.fields import text
from consultroom.room.models import Room
from consultroom.tenancy.models import Organisation
from consultroom_translation import service
from consultroom_translation.i18n import _
from consultroom_translation.settings import languages_in, settings_of

ROLES = ("staff", "client", "guest")


def _room_id(connection):
    room_id = connection.role.room
    if room_id is None:
        raise Refused("forbidden", _("Captions are shown in the consultation room only."))
    return room_id


def switch(connection, message):
    room_id = _room_id(connection)
    on = message.get("on")
    if not isinstance(on, bool):
        raise Refused("malformed", _("Say whether captions are on or off."))

    def store(dbsession, events):
        room = dbsession.get(Room, room_id)
        service.switch(dbsession, room, on)
        events.add(room_channel(room_id), {"type": "translation.state", "on": on})

    connection.transaction(store)


def languages(connection, message):
    room_id = _room_id(connection)
    spoken, caption = text(message, "spoken", 5), text(message, "caption", 5)

    def check(dbsession, events):
        organisation = dbsession.get(Organisation, connection.organisation_id)
        offered = languages_in(settings_of(dbsession, organisation)["languages"])
        if spoken not in offered or caption not in offered:
            raise Refused("invalid", _("This language is not offered."))
        events.add(
            room_channel(room_id),
            {
                "type": "translation.languages",
                "peer": connection.peer,
                "spoken": spoken,
                "caption": caption,
            },
        )

    connection.transaction(check)


def includeme(config):
    config.add_realtime_message_type("translation.switch", switch, roles=ROLES)
    config.add_realtime_message_type("translation.languages", languages, roles=ROLES)
