"""The public chat widget's rules: visitor conversations, the tokens that
open them, who is on duty to answer, and who hears of a new message.

A visitor conversation belongs to the organisation: it has no client and
no department, and every staff member of the organisation may read and
answer it (the widget is the organisation's front desk; segregation of
clients has nothing to apply to). Every staff read is audited, as in the
other conversations.

A visitor has no login and no session (the widget lives in another site's
iframe, where the session cookie does not come along). Their conversation
is opened by a signed token: an HMAC, with the session secret, of the
organisation, the conversation, a purpose and an expiry time, so that no
guessed number opens anyone's conversation. The widget's address carries a
``page`` token (also in the e-mail telling of an answer); the page hands
its socket a short-lived ``socket`` token.
"""

import base64
import hashlib
import hmac
import time
from functools import lru_cache

from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.i18n import LANGUAGES
from consultroom.realtime import publish_after_commit, user_channel
from consultroom_chat import service
from consultroom_chat.i18n import _
from consultroom_chat.models import Author, Conversation, Duty, Kind, Message

PAGE = "page"
SOCKET = "socket"
LIFETIME = {PAGE: 30 * 24 * 60 * 60, SOCKET: 2 * 60 * 60}  # seconds
MAX_TOKEN = 100


def visitor_channel(conversation_id):
    """The bus channel of one visitor's sockets."""
    return f"chat.visitor:{conversation_id}"


def duty_channel(organisation_id):
    """The bus channel of an organisation's visitors: whether anyone is on duty."""
    return f"chat.duty:{organisation_id}"


# ---- tokens


def _signature(registry, purpose, organisation_id, conversation_id, expires):
    key = registry.settings["session.secret"].encode()
    message = f"consultroom_chat.visitor:{purpose}:{organisation_id}:{conversation_id}:{expires}"
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_for(registry, conversation, purpose):
    expires = int(time.time()) + LIFETIME[purpose]
    signature = _signature(
        registry, purpose, conversation.organisation_id, conversation.id, expires
    )
    return f"{conversation.id}.{expires}.{signature}"


def conversation_id_of(registry, organisation_id, token, purpose):
    """The conversation id a valid, unexpired ``token`` of ``purpose`` opens
    for this organisation, or None."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        return None
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts[:2]):
        return None
    conversation_id, expires = int(parts[0]), int(parts[1])
    if expires < time.time() or not 0 < conversation_id < 2**31:
        return None
    expected = _signature(registry, purpose, organisation_id, conversation_id, expires)
    if not hmac.compare_digest(parts[2].encode(), expected.encode()):
        return None
    return conversation_id


def find(dbsession, organisation_id, conversation_id):
    return dbsession.scalar(
        select(Conversation).where(
            Conversation.organisation_id == organisation_id,
            Conversation.kind == Kind.visitor,
            Conversation.id == conversation_id,
        )
    )


# ---- who is on duty


def on_duty_ids(dbsession, organisation_id):
    """The staff answering the website chat now (active accounts only)."""
    return set(
        dbsession.scalars(
            select(Duty.user_id)
            .join(User, User.id == Duty.user_id)
            .where(Duty.organisation_id == organisation_id, Duty.answering, User.active)
        )
    )


def is_on_duty(dbsession, user_id):
    duty = dbsession.get(Duty, user_id)
    return bool(duty and duty.answering)


def set_duty(dbsession, staff, answering):
    """Switch ``staff``'s "answer the website chat"; the bus messages that
    tell their other pages and the organisation's visitors."""
    duty = dbsession.get(Duty, staff.id)
    if duty is None:
        duty = Duty(user_id=staff.id, organisation_id=staff.organisation_id)
        dbsession.add(duty)
    duty.answering = answering
    dbsession.flush()
    anyone = bool(on_duty_ids(dbsession, staff.organisation_id))
    return [
        (user_channel(staff.id), {"type": "chat.duty", "on": answering}),
        (duty_channel(staff.organisation_id), {"type": "chat.on_duty", "on": anyone}),
    ]


# ---- conversations


def start(request, name, email, text):
    """A new visitor conversation with its first message (``service.Invalid``
    for an empty or too long one); who hears of it is ``announce``'s."""
    text = service.clean_text(text)
    conversation = Conversation(
        organisation_id=request.organisation.id,
        kind=Kind.visitor,
        visitor_name=name,
        visitor_email=email or None,
        visitor_language=request.locale_name,
        answer_by_mail=not on_duty_ids(request.dbsession, request.organisation.id),
    )
    request.dbsession.add(conversation)
    request.dbsession.flush()
    return conversation, write(request, conversation, Author.visitor, name, text)


def write(request, conversation, author, name, raw_text, user=None):
    """A message in a visitor conversation (``service.Invalid`` if not)."""
    message = service.post(request, conversation, author, name, raw_text, user=user)
    conversation.last_message_at = message.at
    if user is not None:
        service.mark_read(request, conversation, user, message.id)
        if conversation.answer_by_mail:
            _tell_visitor(request, conversation, message)
    else:
        conversation.client_read_id = message.id  # the visitor's own
    return message


def listeners(dbsession, conversation):
    """Who hears of a new message: the visitor, the staff on duty, and the
    staff who wrote in this conversation."""
    writers = dbsession.scalars(
        select(Message.author_user_id)
        .where(Message.conversation_id == conversation.id, Message.author_user_id.is_not(None))
        .distinct()
    )
    staff = on_duty_ids(dbsession, conversation.organisation_id) | set(writers)
    return [visitor_channel(conversation.id), *(user_channel(i) for i in sorted(staff))]


def event(request, conversation, message):
    return {
        "type": "chat.message",
        "conversation": conversation.id,
        "visitor": conversation.visitor_name,
        **service.as_dict(request, message),
    }


def announce(request, conversation, message):
    """Tell the listeners once the request's transaction commits."""
    data = event(request, conversation, message)
    for channel in listeners(request.dbsession, conversation):
        publish_after_commit(request, channel, data)


def _tell_visitor(request, conversation, message):
    """E-mail a visitor who left a message (and an address) that it was
    answered, never what the answer says; once, until they have read it."""
    if not conversation.visitor_email or service.unread_before(request, conversation, message):
        return
    language = conversation.visitor_language
    service.queue_notice(
        request,
        conversation,
        conversation.visitor_email,
        conversation.visitor_name,
        request.route_path(
            "chat.widget_conversation", token=token_for(request.registry, conversation, PAGE)
        ),
        _("${organisation} has answered your message. Read the answer at this address:"),
        _("${organisation} has answered your message"),
        language if language in LANGUAGES else request.organisation.language,
    )


def visible(request):
    """A select of the organisation's visitor conversations: every staff
    member of the organisation may read them."""
    return visible_in(request.organisation.id)


@lru_cache(maxsize=4096)  # built once per organisation, as the channels' select
def visible_in(organisation_id):
    return select(Conversation).where(
        Conversation.organisation_id == organisation_id,
        Conversation.kind == Kind.visitor,
    )


def unread_counts(request, user):
    """``{visitor conversation id: messages from the visitor user has not read}``."""
    return service.unread_in(request, visible(request).with_only_columns(Conversation.id), user)
