"""The public chat widget on the websocket: the visitor's role and what the
staff send to answer.

``chat.visitor`` is a role of its own (the door gates it: from an
organisation without chat it is an unknown role). Its hello carries the
``socket`` token the widget page issued (``consultroom_chat.visitors``);
it hears its conversation's messages and whether anyone is on duty, and
sends ``chat.visitor.send`` (``text``).

Staff use their page's socket (the core's ``staff`` role): ``chat.duty``
(``on``) switches "answer the website chat", ``chat.visitor.answer``
(``conversation``, ``text``) answers a visitor, ``chat.visitor.read``
(``conversation``) marks what they saw arrive live as read. Every staff
member of the organisation may answer; conversations are looked up in the
socket's organisation only.

The core applies the size limit and the flood throttle to every socket,
the visitor's too, before these handlers run.
"""

from consultroom.realtime.connection import Refused
from consultroom.realtime.fields import boolean, integer
from consultroom_chat import service, visitors
from consultroom_chat.i18n import _
from consultroom_chat.models import Author
from consultroom_chat.settings import settings_of

ROLE = "chat.visitor"
REFUSED = _("This conversation has ended or its address has expired.")


class VisitorRole:
    """A visitor's socket, in one visitor conversation."""

    name = ROLE

    def __init__(self, connection, conversation_id):
        self.conn = connection
        self.conversation_id = conversation_id

    def start(self):
        self.conn.subscribe(visitors.visitor_channel(self.conversation_id))
        self.conn.subscribe(visitors.duty_channel(self.conn.organisation_id))
        self.conn.send(self.conn.transaction(self._history))

    def _history(self, dbsession, events):
        conversation = self._conversation(dbsession)
        messages = service.history(self.conn.request, conversation)  # the visitor's own
        conversation.client_read_id = max(
            [conversation.client_read_id, *(m["id"] for m in messages)]
        )
        on = bool(visitors.on_duty_ids(dbsession, self.conn.organisation_id))
        return {"type": "chat.history", "on_duty": on, "messages": messages}

    def _conversation(self, dbsession):
        found = visitors.find(dbsession, self.conn.organisation_id, self.conversation_id)
        if found is None:  # deleted meanwhile (by days, or with the history)
            raise Refused("not_found", REFUSED)
        return found

    def on_bus(self, message):
        kind = message.get("type")
        if kind and not kind.startswith("_"):
            self.conn.send(message)
            if kind == "chat.message" and message.get("author") == Author.staff.value:
                self.conn.transaction(lambda db, events: self._read(db, message["id"]))

    def _read(self, dbsession, message_id):
        conversation = visitors.find(dbsession, self.conn.organisation_id, self.conversation_id)
        if conversation is not None:
            conversation.client_read_id = max(conversation.client_read_id, message_id)

    def stop(self):
        """Nothing is kept for a visitor's socket."""

    def send(self, message):
        def write(dbsession, events):
            conversation = self._conversation(dbsession)
            try:
                written = visitors.write(
                    self.conn.request,
                    conversation,
                    Author.visitor,
                    conversation.visitor_name,
                    message.get("text"),
                )
            except service.Invalid as exc:
                raise Refused("invalid", exc.args[0]) from None
            _tell(self.conn, events, dbsession, conversation, written)

        self.conn.transaction(write)


def _tell(connection, events, dbsession, conversation, written):
    data = visitors.event(connection.request, conversation, written)
    for channel in visitors.listeners(dbsession, conversation):
        events.add(channel, data)


def authenticate(connection, hello):
    """The visitor's role for the hello's token, or Refused."""
    conversation_id = visitors.conversation_id_of(
        connection.registry, connection.organisation_id, hello.get("token"), visitors.SOCKET
    )
    if conversation_id is None:
        raise Refused("unauthorized", REFUSED)
    request = connection.request
    with request.tm:
        found = visitors.find(request.dbsession, connection.organisation_id, conversation_id)
        if found is None or not settings_of(request)["public_widget"]:
            raise Refused("unauthorized", REFUSED)
    return VisitorRole(connection, conversation_id)


# ---- the staff's side


def _staff(connection):
    return connection.role.staff


def duty(connection, message):
    on = boolean(message, "on")
    staff = _staff(connection)

    def switch(dbsession, events):
        for channel, data in visitors.set_duty(dbsession, staff, on):
            events.add(channel, data)

    connection.transaction(switch)


def answer(connection, message):
    staff = _staff(connection)
    conversation_id = integer(message, "conversation")

    def write(dbsession, events):
        conversation = visitors.find(dbsession, connection.organisation_id, conversation_id)
        if conversation is None:
            raise Refused("not_found", _("This conversation does not exist."))
        try:
            written = visitors.write(
                connection.request,
                conversation,
                Author.staff,
                staff.name,
                message.get("text"),
                user=staff,
            )
        except service.Invalid as exc:
            raise Refused("invalid", exc.args[0]) from None
        _tell(connection, events, dbsession, conversation, written)

    connection.transaction(write)


def read(connection, message):
    staff = _staff(connection)
    conversation_id = integer(message, "conversation")

    def mark(dbsession, events):
        conversation = visitors.find(dbsession, connection.organisation_id, conversation_id)
        if conversation is not None:
            service.mark_read(connection.request, conversation, staff)

    connection.transaction(mark)


def includeme(config):
    config.add_realtime_role(ROLE, authenticate)
    config.add_realtime_message_type(
        "chat.visitor.send",
        lambda connection, message: connection.role.send(message),
        roles=(ROLE,),
    )
    config.add_realtime_message_type("chat.duty", duty, roles=("staff",))
    config.add_realtime_message_type("chat.visitor.answer", answer, roles=("staff",))
    config.add_realtime_message_type("chat.visitor.read", read, roles=("staff",))
