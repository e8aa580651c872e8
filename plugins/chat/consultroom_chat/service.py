"""Chat's rules, in one place: which conversations a staff member may see
(the core's segregation of clients, applied to channels), how a message is
written (validated, encrypted, counted as unread for the other side) and
read (decrypted, the read recorded in the audit trail).

A message can be written in two steps: ``draft`` validates it and gives it
its identity (a random ``key``) and time without touching the database, so
that the room's sockets can be told of it at once; then ``store`` encrypts
and writes it (in a consultation ``store_in_consultation``: one INSERT from
the ids a socket keeps; in its room ``store_in_room``, that INSERT alone).
See consultroom_chat.sockets: the relay does not wait on the commit, and a
message that could not be stored is retracted.

Every function works in the caller's transaction, through a request of the
conversation's organisation.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from markupsafe import Markup, escape
from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import func, or_, select, update
from zope.sqlalchemy import mark_changed

from consultroom.accounts.models import Role
from consultroom.audit import record
from consultroom.clients.access import Viewer, clients_visible_to
from consultroom.clients.contact import language_of
from consultroom.clients.models import Client
from consultroom.db import execute_alone, utcnow
from consultroom.secretbox import secret_box
from consultroom.web.forms import MAX_INTEGER
from consultroom.web.sites import org_url
from consultroom_chat.i18n import _
from consultroom_chat.models import Author, Conversation, Kind, Message, ReadMark

MAX_LENGTH = 2000
HISTORY = 200
# http(s) links only: other schemes (javascript:, data:) stay text.
_LINK = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"


class Invalid(ValueError):
    """A message that cannot be written; ``args[0]`` is a translatable reason."""


def linkify(text):
    """``text`` as HTML: escaped, its http(s) links clickable, opening
    elsewhere without handing over this page (noopener, no referrer)."""
    html, start = [], 0
    for match in _LINK.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        html.append(escape(text[start : match.start()]))
        html.append(
            Markup(
                '<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{0}</a>'
            ).format(url)
        )
        start = end
    html.append(escape(text[start:]))
    return Markup("").join(html)


def clean_text(raw):
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise Invalid(_("Write a message first."))
    if len(text) > MAX_LENGTH:
        raise Invalid(_("A message can be at most ${max} characters.", mapping={"max": MAX_LENGTH}))
    return text


# ---- finding conversations


def channel_for(request, client, department_id):
    """The channel between ``client`` and a department (None: the
    organisation's staff without a department), made when missing."""
    dbsession = request.dbsession
    channel = dbsession.scalar(
        select(Conversation).where(
            Conversation.organisation_id == request.organisation.id,
            Conversation.kind == Kind.channel,
            Conversation.client_id == client.id,
            Conversation.department_id.is_(None)
            if department_id is None
            else Conversation.department_id == department_id,
        )
    )
    if channel is None:
        channel = Conversation(
            organisation_id=request.organisation.id,
            kind=Kind.channel,
            client_id=client.id,
            department_id=department_id,
        )
        dbsession.add(channel)
        dbsession.flush()
    return channel


def consultation_of(request, appointment=None, room=None):
    """The conversation of one consultation, made when missing: the
    appointment's (its waiting room, then its rooms), or for a room without
    an appointment the room's own."""
    if appointment is None and room is not None and room.appointment_id is not None:
        appointment = room.appointment
    if appointment is not None:
        where, values = (
            Conversation.appointment_id == appointment.id,
            {
                "appointment_id": appointment.id,
                "client_id": appointment.client_id,
                "department_id": appointment.department_id,
            },
        )
    else:
        where, values = Conversation.room_id == room.id, {"room_id": room.id}
    found = request.dbsession.scalar(
        select(Conversation).where(Conversation.organisation_id == request.organisation.id, where)
    )
    if found is None:
        found = Conversation(
            organisation_id=request.organisation.id, kind=Kind.consultation, **values
        )
        request.dbsession.add(found)
        request.dbsession.flush()
    return found


def continue_in_channel(request, room):
    """Move what was written in ``room``'s consultation into the client's
    channel with its department (made when missing): the conversation goes
    on in Messages. A room without a client keeps its conversation."""
    appointment = room.appointment
    if appointment is None or appointment.client is None:
        return
    consultation = request.dbsession.scalar(
        select(Conversation).where(
            Conversation.organisation_id == request.organisation.id,
            Conversation.appointment_id == appointment.id,
        )
    )
    if consultation is None:
        return
    last = request.dbsession.scalar(
        select(func.max(Message.at)).where(Message.conversation_id == consultation.id)
    )
    channel = channel_for(request, appointment.client, appointment.department_id)
    request.dbsession.execute(
        update(Message)
        .where(Message.conversation_id == consultation.id)
        .values(conversation_id=channel.id)
    )
    if last is not None:
        channel.last_message_at = max(last, channel.last_message_at or last)
    request.dbsession.delete(consultation)


def visible_channels(request, user=None):
    """A select of the channels ``user`` (the logged-in staff member) may
    read: those of the clients they may see, and under strictly segregated
    departments only their own department's."""
    return channels_visible_to(Viewer.of(request, user))


@lru_cache(maxsize=4096)  # as clients_visible_to: built once per viewer
def channels_visible_to(viewer):
    """``visible_channels`` for a ``consultroom.clients.access.Viewer``."""
    clients = clients_visible_to(viewer).with_only_columns(Client.id)
    query = select(Conversation).where(
        Conversation.organisation_id == viewer.organisation_id,
        Conversation.kind == Kind.channel,
        Conversation.client_id.in_(clients),
    )
    if viewer.role is not Role.org_admin and viewer.strict_departments:
        query = query.where(Conversation.department_id == viewer.department_id)
    return query


def route_id(request):
    """The conversation id in the route (``{id:\\d+}``); 404 beyond what the
    column holds."""
    value = int(request.matchdict["id"])
    if value > MAX_INTEGER:
        raise HTTPNotFound()
    return value


def channel_or_404(request):
    channel = request.dbsession.scalar(
        visible_channels(request).where(Conversation.id == route_id(request))
    )
    if channel is None:
        raise HTTPNotFound()
    return channel


# ---- writing and reading


@dataclass(frozen=True)
class Draft:
    """A validated message, not yet written. ``key`` names it on the
    sockets before it has a row (and so an id): a retraction names it."""

    key: str
    at: datetime
    author: Author
    name: str
    text: str

    def as_dict(self):
        """What the sockets are told of it: ``as_dict`` of a stored message,
        but for its ``key`` instead of its ``id``, and without ``html``
        (pages make the links from the text, as static/messages.js does;
        the relay's path is kept short)."""
        return {
            "key": self.key,
            "at": self.at.isoformat() + "Z",
            "author": self.author.value,
            "name": self.name,
            "text": self.text,
        }


def draft(author, name, text):
    """A message of ``text`` (as ``clean_text`` returned it) ready to be
    relayed and stored. No database: the relay does not wait for one."""
    return Draft(secrets.token_hex(16), utcnow(), author, name[:200], text)


def post(request, conversation, author, name, raw_text, user=None):
    """Write a message in ``conversation``; raises ``Invalid`` (nothing written)."""
    return store(request, conversation, draft(author, name, clean_text(raw_text)), user=user)


def store(request, conversation, message_draft, user=None):
    """Write ``message_draft`` in ``conversation`` (encrypted), with what
    follows from it: a channel's order and unread marks, and the client's
    e-mail notice (queued: it goes only once the transaction commits)."""
    message = Message(
        organisation_id=conversation.organisation_id,
        conversation_id=conversation.id,
        at=message_draft.at,
        author=message_draft.author,
        author_user_id=user.id if user is not None else None,
        author_name=message_draft.name,
        body=secret_box(request.registry).encrypt(message_draft.text.encode()),
    )
    request.dbsession.add(message)
    request.dbsession.flush()
    if conversation.kind is Kind.channel:
        # What the channel lists and counts; a consultation is read live.
        conversation.last_message_at = message.at
        if user is not None:
            mark_read(request, conversation, user, message.id)
        if message.author is Author.staff:
            _notify_client(request, conversation, message)
    return message


def store_in_consultation(request, organisation_id, conversation_id, message_draft, user_id=None):
    """Write ``message_draft`` in consultation ``conversation_id`` with one
    INSERT in the request's transaction, from ids alone: no row is read
    first (the websocket keeps the ids; see consultroom_chat.sockets), and a
    conversation deleted meanwhile fails it (its foreign key). A
    consultation has neither unread marks nor notices: it is read live."""
    dbsession = request.dbsession
    row = _consultation_row(
        request.registry, organisation_id, conversation_id, message_draft, user_id
    )
    dbsession.connection().execute(_INSERT, row)
    mark_changed(dbsession)  # written past the session: its transaction must commit


def store_in_room(registry, organisation_id, conversation_id, message_draft, user_id=None):
    """``store_in_consultation`` for a message written in the room, where
    nothing else is written with it: the INSERT alone is its transaction
    (``consultroom.db.execute_alone``: on PostgreSQL one round trip)."""
    row = _consultation_row(registry, organisation_id, conversation_id, message_draft, user_id)
    execute_alone(registry, _INSERT, row)


def _consultation_row(registry, organisation_id, conversation_id, message_draft, user_id):
    return {
        "organisation_id": organisation_id,
        "conversation_id": conversation_id,
        "at": message_draft.at,
        "author": message_draft.author,
        "author_user_id": user_id,
        "author_name": message_draft.name,
        "body": secret_box(registry).encrypt(message_draft.text.encode()),
    }


# The table's INSERT, its values bound, on the session's connection: the
# ORM's bulk insert (or a .values() built per message) costs several times
# the statement's own work, next to a relay that has just gone out.
_INSERT = Message.__table__.insert()


def _notify_client(request, conversation, message):
    """E-mail the client that a message waits, never what it says; once,
    until they have read it (not for every message of a conversation)."""
    client = conversation.client
    if client is None or not client.email or unread_before(request, conversation, message):
        return
    queue_notice(
        request,
        conversation,
        client.email,
        client.display_name,
        request.route_path("chat.portal", token=client.portal_token, id=conversation.id),
        _("${organisation} has sent you a message. Read it and answer at this address:"),
        _("New message from ${organisation}"),
        language_of(client, request.organisation),
    )


def queue_notice(request, conversation, address, name, path, notice, subject, language):
    """E-mail ``address`` that a message of ``conversation`` waits at
    ``path`` of the organisation's site, never what it says. ``notice``
    and ``subject`` are translation strings naming ``${organisation}``."""
    organisation = request.organisation
    mapping = {"organisation": organisation.name}
    request.queue_mail(
        address,
        "consultroom_chat:templates/mail/new_message.txt",
        {
            "greeting": _("Hello ${name},", mapping={"name": name}),
            "notice": _(notice, mapping=mapping),
            "url": org_url(request, organisation, path),
        },
        subject=_(subject, mapping=mapping),
        language=language,
        ref=f"chat_conversation:{conversation.id}",
    )


def unread_before(request, conversation, message):
    """Whether the client's (or visitor's) side has not read an answer
    written before ``message``: then they were told of it already."""
    return bool(
        request.dbsession.scalar(
            select(func.count(Message.id)).where(
                Message.conversation_id == conversation.id,
                Message.author == Author.staff,
                Message.id > conversation.client_read_id,
                Message.id < message.id,
            )
        )
    )


def as_dict(request, message):
    text = secret_box(request.registry).decrypt(message.body).decode()
    return {
        "id": message.id,
        "at": message.at.isoformat() + "Z",
        "author": message.author.value,
        "name": message.author_name,
        "text": text,
        "html": str(linkify(text)),
    }


def history(request, conversation, reader=None, limit=HISTORY):
    """The last ``limit`` messages, oldest first, decrypted. A staff
    member's read (``reader``) is recorded in the audit trail: messages are
    personal data."""
    rows = request.dbsession.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()
    if reader is not None:
        record(request, "chat.read", "chat_conversation", conversation.id, actor=reader)
    return [as_dict(request, m) for m in reversed(rows)]


def mark_read(request, conversation, user, up_to=None):
    """``user`` has read ``conversation`` up to message ``up_to`` (the last)."""
    if up_to is None:
        up_to = request.dbsession.scalar(
            select(func.max(Message.id)).where(Message.conversation_id == conversation.id)
        )
    mark = request.dbsession.get(ReadMark, (conversation.id, user.id))
    if mark is None:
        mark = ReadMark(conversation_id=conversation.id, user_id=user.id, last_read_id=0)
        request.dbsession.add(mark)
    mark.last_read_id = max(mark.last_read_id, up_to or 0)


def unread_counts(request, user=None):
    """``{channel id: messages from the client not yet read by user}``
    (the logged-in staff member's: asked once per request, by the menu,
    the top bar and the lists)."""
    if user is None:
        if not hasattr(request, "chat_unread"):
            request.chat_unread = unread_counts(request, request.identity)
        return request.chat_unread
    channels = visible_channels(request, user).with_only_columns(Conversation.id)
    return unread_in(request, channels, user)


def unread_in(request, conversations, user):
    """``{conversation id: messages not written by staff that user has not
    read}``, for the conversations whose ids ``conversations`` selects."""
    return dict(request.dbsession.execute(unread_statement(conversations, user.id)).all())


def unread_statement(conversations, user_id):
    """The select of ``unread_in``: rows of (conversation id, count)."""
    last_read = (
        select(ReadMark.last_read_id)
        .where(ReadMark.conversation_id == Message.conversation_id, ReadMark.user_id == user_id)
        .scalar_subquery()
    )
    return (
        select(Message.conversation_id, func.count())
        .where(
            Message.conversation_id.in_(conversations),
            Message.author != Author.staff,
            or_(last_read.is_(None), Message.id > last_read),
        )
        .group_by(Message.conversation_id)
    )


def waiting_unread(request, appointments):
    """``{appointment id: messages from the client since staff last wrote}``:
    the badge on the staff's waiting list."""
    rows = request.dbsession.execute(
        select(Conversation.appointment_id, Message.author)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(
            Conversation.organisation_id == request.organisation.id,
            Conversation.appointment_id.in_([a.id for a in appointments]),
        )
        .order_by(Message.id)
    )
    unread = {}
    for appointment_id, author in rows:
        unread[appointment_id] = 0 if author is Author.staff else unread.get(appointment_id, 0) + 1
    return {k: v for k, v in unread.items() if v}
