"""The public chat widget on the websocket of a real server: a visitor (role
``chat.visitor``, with the token the widget page issued) and the staff on
duty write to each other live; the duty switch reaches the visitor; another
organisation's visitor token and staff reach nothing; where chat is off the
role is unknown, exactly like a role nobody registered; the core's size
limit and flood throttle apply to the visitor's socket."""

import json
import re

from consultroom_chat.models import Conversation, Message
from sqlalchemy import select

from consultroom.plugins.models import PluginEnablement

from realtime_support import Browser, refused, staff_socket


def _org(server, enabled=True, public_widget=True):
    org = server.organisation()
    if enabled:
        server.add(
            PluginEnablement(
                organisation_id=org.id,
                plugin="chat",
                enabled=True,
                settings={"public_widget": public_widget},
            )
        )
    return org


def _visitor(server, org, name="Vera Visser", text="Hello there"):
    """A visitor who wrote from the widget: (their socket token, conversation id)."""
    browser = Browser(server.port, org)
    status, _headers, page = browser.request("/chat/widget")
    assert status == 200, page
    token = re.search(rb'name="form_token" value="([^"]+)"', page).group(1).decode()
    status, headers, page = browser.request(
        "/chat/widget", {"form_token": token, "name": name, "email": "", "text": text}
    )
    assert status == 303, page
    path = headers["Location"].split(f":{server.port}", 1)[1]
    status, _headers, page = browser.request(path)
    assert status == 200, page
    config = re.search(rb'id="chat-widget-config">([^<]+)<', page).group(1)
    return json.loads(config)["hello"]["token"], int(path.rsplit("/", 1)[1].split(".")[0])


def _visitor_socket(server, org, token):
    socket = Browser(server.port, org).socket()
    socket.hello("chat.visitor", token)
    return socket


def _on_duty(server, org, name="Dr. Duty"):
    doctor = server.user(org, name=name)
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    staff.send({"type": "chat.duty", "on": True})
    assert staff.expect("chat.duty")["on"] is True
    return doctor, staff


def test_a_visitor_and_the_staff_on_duty_write_to_each_other_live(server):
    org = _org(server)
    _doctor, staff = _on_duty(server, org)
    token, conversation_id = _visitor(server, org, text="Do you take new patients?")
    first = staff.expect("chat.message")
    assert (first["conversation"], first["visitor"], first["text"]) == (
        conversation_id,
        "Vera Visser",
        "Do you take new patients?",
    )

    visitor = _visitor_socket(server, org, token)
    history = visitor.expect("chat.history")
    assert history["on_duty"] is True
    assert [m["text"] for m in history["messages"]] == ["Do you take new patients?"]

    visitor.send({"type": "chat.visitor.send", "text": "On Saturdays too?"})
    assert visitor.expect("chat.message")["text"] == "On Saturdays too?"
    message = staff.expect("chat.message")
    assert (message["author"], message["name"]) == ("visitor", "Vera Visser")

    staff.send(
        {
            "type": "chat.visitor.answer",
            "conversation": conversation_id,
            "text": "Yes, see https://acme.example",
        }
    )
    answer = visitor.expect("chat.message")
    assert (answer["author"], answer["name"]) == ("staff", "Dr. Duty")
    assert 'href="https://acme.example"' in answer["html"]
    assert staff.expect("chat.message")["text"] == "Yes, see https://acme.example"

    bodies = server.query(select(Message.body).where(Message.organisation_id == org.id))
    assert len(bodies) == 3 and not any(b"Saturdays" in body for (body,) in bodies)

    staff.send({"type": "chat.duty", "on": False})
    assert visitor.expect("chat.on_duty")["on"] is False


def test_a_visitor_gets_a_clear_refusal_for_an_empty_message(server):
    org = _org(server)
    token, _conversation_id = _visitor(server, org)
    visitor = _visitor_socket(server, org, token)
    visitor.expect("chat.history")
    visitor.send({"type": "chat.visitor.send", "text": "  "})
    error = visitor.expect("error")
    assert (error["code"], error["message"]) == ("invalid", "Write a message first.")


def test_another_organisations_visitor_token_and_staff_reach_nothing(server):
    org = _org(server)
    token, conversation_id = _visitor(server, org)
    other = _org(server)
    socket = Browser(server.port, other).socket()
    socket.send({"type": "hello", "role": "chat.visitor", "token": token})
    refused(socket)

    _stranger, stranger = _on_duty(server, other)
    stranger.send({"type": "chat.visitor.answer", "conversation": conversation_id, "text": "hi"})
    assert stranger.expect("error")["code"] == "not_found"
    texts = server.query(
        select(Message.id).join(Conversation).where(Conversation.id == conversation_id)
    )
    assert len(texts) == 1


def test_a_forged_token_is_refused(server):
    org = _org(server)
    token, _conversation_id = _visitor(server, org)
    number, expires, signature = token.split(".")
    socket = Browser(server.port, org).socket()
    socket.send(
        {
            "type": "hello",
            "role": "chat.visitor",
            "token": f"{number}.{int(expires) + 9}.{signature}",
        }
    )
    refused(socket)


def test_where_chat_is_off_the_role_is_unknown_like_any_unknown_role(server):
    on = _org(server)
    token, _conversation_id = _visitor(server, on)
    answers = {}
    for org, role in [(_org(server, enabled=False), "chat.visitor"), (on, "no.such_role")]:
        socket = Browser(server.port, org).socket()
        socket.send({"type": "hello", "role": role, "token": token})
        answers[role] = socket.expect("error")
        assert socket.close_code() == 4401
    assert answers["chat.visitor"] == answers["no.such_role"]

    # Chat on, its widget setting off: the conversation is closed to the visitor.
    closed = _org(server, public_widget=False)
    socket = Browser(server.port, closed).socket()
    socket.send({"type": "hello", "role": "chat.visitor", "token": token})
    refused(socket)

    # The staff's chat.duty is an unknown type without chat.
    off = _org(server, enabled=False)
    _browser, staff = staff_socket(server, off, server.user(off))
    staff.expect("waiting_list")
    staff.send({"type": "chat.duty", "on": True})
    assert staff.expect("error")["code"] == "unknown_type"


def test_the_size_limit_and_the_flood_throttle_apply_to_visitors(server):
    org = _org(server)
    token, _conversation_id = _visitor(server, org)
    visitor = _visitor_socket(server, org, token)
    visitor.expect("chat.history")
    visitor.send({"type": "chat.visitor.send", "text": "x" * 70000})
    assert visitor.expect("error")["code"] == "too_large"
    for _ in range(60):
        visitor.send({"type": "ping"})
    assert visitor.expect("error")["code"] == "rate_limited"
