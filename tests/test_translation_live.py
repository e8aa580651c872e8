"""Captions on the websocket of a real server (plugins/translation): anyone
in the room switches them on and off and everyone there hears it; a
participant's languages go to the room when they are among those offered;
outside a room, and for an organisation without the plugin, nothing."""

from consultroom_translation.models import CaptionRoom
from sqlalchemy import select

from consultroom.plugins.models import PluginEnablement

from realtime_support import consultation


def _org(server, enabled=True, **settings):
    org = server.organisation()
    if enabled:
        server.add(
            PluginEnablement(
                organisation_id=org.id,
                plugin="translation",
                enabled=True,
                settings={"start": "on_request", "languages": "en, nl", **settings},
            )
        )
    return org


def _captions_on(server, room):
    with server.dbmaker() as db:
        return db.scalar(select(CaptionRoom.room_id).where(CaptionRoom.room_id == room))


def test_switching_captions_on_and_off_is_heard_by_everyone_in_the_room(server):
    org = _org(server)
    _browser, staff, client, _appointment, room = consultation(server, org, server.user(org))
    client.send({"type": "translation.switch", "on": True})
    assert staff.expect("translation.state")["on"] is True
    assert client.expect("translation.state")["on"] is True
    assert _captions_on(server, room) == room
    staff.send({"type": "translation.switch", "on": False})
    assert client.expect("translation.state")["on"] is False
    assert _captions_on(server, room) is None


def test_languages_are_told_to_the_room_when_offered(server):
    org = _org(server)
    _browser, staff, client, _appointment, _room = consultation(server, org, server.user(org))
    client.send({"type": "translation.languages", "spoken": "nl", "caption": "en"})
    told = staff.expect("translation.languages")
    assert (told["spoken"], told["caption"]) == ("nl", "en")
    client.send({"type": "translation.languages", "spoken": "de", "caption": "en"})
    assert client.expect("error")["code"] == "invalid"
    client.send({"type": "translation.switch", "on": "yes"})
    assert client.expect("error")["code"] == "malformed"


def test_without_the_plugin_its_types_are_unknown_and_nothing_is_switched_on(server):
    org = _org(server, enabled=False)
    _browser, _staff, client, _appointment, room = consultation(server, org, server.user(org))
    client.send({"type": "translation.switch", "on": True})
    assert client.expect("error")["code"] == "unknown_type"
    assert _captions_on(server, room) is None
