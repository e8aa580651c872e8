"""Chat on the websocket of a real server: in the consultation room between
staff, client and guest (history for whoever asks, each staff read
audited); in the waiting room between a waiting client and the practitioner
where the organisation shows messages there (with the waiting list's badge
of new messages), and nowhere else; and for an organisation without chat,
its types are unknown. A message is relayed before it is stored: one that
cannot be stored is retracted from every page and given back to its sender.

A socket handles its frames in order, and a message's write ends before
the sender's next frame is handled: a test that needs the message stored
asks the sender's socket for the history first (the others hear of a
message before it is stored)."""

import pytest
from consultroom_chat.models import Conversation, Kind, Message
from sqlalchemy import delete, select

from consultroom.audit.models import AuditEntry, AuditPending
from consultroom.plugins.models import PluginEnablement
from consultroom.room.models import RoomInvite

from chat_support import execute, inserts_refused
from realtime_support import Browser, client_socket, staff_socket


def _org(server, enabled=True, **settings):
    org = server.organisation()
    if enabled:
        server.add(
            PluginEnablement(
                organisation_id=org.id,
                plugin="chat",
                enabled=True,
                settings={
                    "in_waiting_room": False,
                    "delete_after_consultation": False,
                    "delete_after_days": 0,
                    **settings,
                },
            )
        )
    return org


def _waiting(server, org, doctor):
    appointment = server.appointment(org, doctor)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    return appointment, client, staff


def _in_room(server, org, doctor):
    appointment, client, staff = _waiting(server, org, doctor)
    staff.send({"type": "call_in", "visit": _visit(server, staff, appointment)})
    room = staff.expect("claimed")["room"]
    client.expect("admitted")
    staff.send({"type": "join", "room": room})
    staff.expect("room")
    return appointment, room, client, staff


def _both(socket, *kinds):
    """The next message of each of ``kinds``, in whatever order they come."""
    found = {}
    while len(found) < len(kinds):
        message = socket.recv()
        if message["type"] in kinds:
            found.setdefault(message["type"], message)
    return [found[kind] for kind in kinds]


def _stored(sender):
    """Once this returns, what ``sender`` sent before is stored (or retracted)."""
    sender.send({"type": "chat.history"})
    sender.expect("chat.history")


def _not_sent(sender, other, words):
    """``other`` saw the message come and go; ``sender`` has it back."""
    relayed = other.expect("chat.message")
    assert relayed["text"] == words
    assert other.expect("chat.retract")["key"] == relayed["key"]
    # The error comes straight, the retraction (its own page removes it
    # too) through the bus: in either order.
    error, retract = _both(sender, "error", "chat.retract")
    assert (error["code"], error["key"], error["text"]) == ("not_sent", relayed["key"], words)
    assert "could not be sent" in error["message"]
    assert retract["key"] == relayed["key"]


def _visit(server, staff, appointment):
    staff.send({"type": "resync"})
    entries = staff.expect("waiting_list")["entries"]
    return next(e["id"] for e in entries if e["appointment_id"] == appointment.id)


def test_everyone_in_the_room_chats_guests_included_and_history_is_kept(server):
    org = _org(server)
    doctor = server.user(org, name="Dr. Chat")
    _appointment, room, client, staff = _in_room(server, org, doctor)
    invite = server.add(RoomInvite(room_id=room, name="Tolk", email="tolk@example.org"))
    guest = Browser(server.port, org).socket()
    guest.hello("guest", invite.token)
    guest.expect("room")
    staff.drain()
    client.drain()

    staff.send({"type": "chat.send", "text": "Welcome, see https://example.org"})
    keys = set()
    for socket in (staff, client, guest):
        message = socket.expect("chat.message")
        assert (message["name"], message["author"]) == ("Dr. Chat", "staff")
        assert message["text"] == "Welcome, see https://example.org"
        keys.add(message["key"])
    assert len(keys) == 1  # one message, named alike for everyone
    guest.send({"type": "chat.send", "text": "I translate"})
    assert client.expect("chat.message")["name"] == "Tolk"
    assert staff.expect("chat.message")["author"] == "guest"
    _stored(guest)

    staff.send({"type": "chat.history"})
    history = staff.expect("chat.history")
    assert history["open"] is True
    assert [m["text"] for m in history["messages"]] == [
        "Welcome, see https://example.org",
        "I translate",
    ]
    bodies = [
        body
        for (body,) in server.query(select(Message.body).where(Message.organisation_id == org.id))
    ]
    assert len(bodies) == 2 and not any(b"Welcome" in body for body in bodies)
    # Pending first: the chainer moves the entry into the chain meanwhile.
    pending = select(AuditPending.user_id).where(
        AuditPending.action == "chat.read", AuditPending.organisation_id == org.id
    )
    linked = select(AuditEntry.user_id).where(
        AuditEntry.action == "chat.read", AuditEntry.organisation_id == org.id
    )
    reads = server.query(pending) + server.query(linked)
    assert set(reads) == {(doctor.id,)}


def test_an_empty_message_is_refused_and_nothing_is_written(server):
    org = _org(server)
    _appointment, _room, client, _staff = _in_room(server, org, server.user(org))
    client.send({"type": "chat.send", "text": "   "})
    assert client.expect("error")["code"] == "invalid"
    assert server.query(select(Message.id).where(Message.organisation_id == org.id)) == []


def test_a_message_that_cannot_be_stored_is_retracted_and_given_back(server):
    org = _org(server)
    _appointment, _room, client, staff = _in_room(server, org, server.user(org))
    staff.drain()
    client.drain()
    with inserts_refused(server.engine, org.id):
        staff.send({"type": "chat.send", "text": "Lost on the way"})
        _not_sent(staff, client, "Lost on the way")
        _stored(staff)
    assert server.query(select(Message.id).where(Message.organisation_id == org.id)) == []

    staff.send({"type": "chat.send", "text": "Lost on the way"})  # again, and it goes
    assert client.expect("chat.message")["text"] == "Lost on the way"
    client.send({"type": "chat.history"})
    assert [m["text"] for m in client.expect("chat.history")["messages"]] == ["Lost on the way"]


def test_a_message_in_a_conversation_deleted_meanwhile_is_retracted(server):
    org = _org(server)
    _appointment, _room, client, staff = _in_room(server, org, server.user(org))
    client.send({"type": "chat.send", "text": "first"})
    staff.expect("chat.message")
    _stored(client)  # the client's socket knows its conversation now
    execute(server.engine, [delete(Conversation).where(Conversation.organisation_id == org.id)])
    client.send({"type": "chat.send", "text": "second"})
    _not_sent(client, staff, "second")
    client.send({"type": "chat.send", "text": "third"})  # a conversation again
    assert staff.expect("chat.message")["text"] == "third"
    _stored(client)
    stored = server.query(select(Message.id).where(Message.organisation_id == org.id))
    assert len(stored) == 1  # "first" went with its conversation; "third"


def test_the_waiting_client_and_the_practitioner_chat_before_the_call_in(server):
    org = _org(server, in_waiting_room=True)
    doctor = server.user(org, name="Dr. Wait")
    appointment, client, staff = _waiting(server, org, doctor)
    client.send({"type": "chat.history"})
    history = client.expect("chat.history")
    assert (history["open"], history["appointment"], history["messages"]) == (
        True,
        appointment.id,
        [],
    )

    client.send({"type": "chat.send", "text": "I am here"})
    message, delta = _both(staff, "chat.message", "waiting_delta")
    assert (message["appointment"], message["text"]) == (appointment.id, "I am here")
    assert {"text": "1 new messages", "tone": "warning"} in delta["entry"]["annotations"]
    assert client.expect("chat.message")["text"] == "I am here"  # its own, as sent

    staff.send({"type": "chat.send", "appointment": appointment.id, "text": "Two minutes"})
    assert client.expect("chat.message")["text"] == "Two minutes"
    _message, delta = _both(staff, "chat.message", "waiting_delta")
    assert delta["entry"]["annotations"] == []

    # The conversation goes on in the room.
    staff.send({"type": "call_in", "visit": _visit(server, staff, appointment)})
    room = staff.expect("claimed")["room"]
    client.expect("admitted")
    staff.send({"type": "join", "room": room})
    staff.expect("room")
    client.send({"type": "chat.history"})
    texts = [m["text"] for m in client.expect("chat.history")["messages"]]
    assert texts == ["I am here", "Two minutes"]


def test_staff_cannot_name_another_organisations_appointment(server):
    org = _org(server, in_waiting_room=True)
    appointment, _client, _staff = _waiting(server, org, server.user(org))
    other = _org(server, in_waiting_room=True)
    _browser, stranger = staff_socket(server, other, server.user(other))
    stranger.expect("waiting_list")
    stranger.send({"type": "chat.send", "appointment": appointment.id, "text": "hi"})
    assert stranger.expect("error")["code"] == "not_found"


def test_without_the_waiting_room_setting_messages_wait_for_the_room(server):
    org = _org(server, in_waiting_room=False)
    appointment, client, staff = _waiting(server, org, server.user(org))
    client.send({"type": "chat.history"})
    assert client.expect("chat.history")["open"] is False
    client.send({"type": "chat.send", "text": "hello?"})
    assert client.expect("error")["code"] == "forbidden"
    staff.send({"type": "chat.send", "appointment": appointment.id, "text": "hello"})
    assert staff.expect("error")["code"] == "forbidden"


def test_without_chat_its_types_are_unknown(server):
    org = _org(server, enabled=False)
    _appointment, _room, client, _staff = _in_room(server, org, server.user(org))
    client.send({"type": "chat.send", "text": "hi"})
    assert client.expect("error")["code"] == "unknown_type"


@pytest.mark.parametrize("after", ["keep_open_after", "delete_after_consultation", None])
def test_what_was_written_goes_on_in_messages_goes_or_stays_when_the_consultation_ends(
    server, after
):
    org = _org(server, **({after: True} if after else {}))
    appointment, room, client, staff = _in_room(server, org, server.user(org))
    client.send({"type": "chat.send", "text": "thank you"})
    staff.expect("chat.message")
    _stored(client)
    staff.send({"type": "end", "room": room})
    staff.expect("ended")
    kinds = server.query(
        select(Conversation.kind)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Message.organisation_id == org.id)
    )
    expected = {
        "keep_open_after": [(Kind.channel,)],  # the client's Messages with the department
        "delete_after_consultation": [],
        None: [(Kind.consultation,)],
    }[after]
    assert kinds == expected
    page = Browser(server.port, org).request(f"/c/{appointment.token}/messages")[2]
    assert (b"thank you" in page) == (after == "keep_open_after")
