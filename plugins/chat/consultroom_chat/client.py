"""The client's side of chat. Nobody logs in: the client comes through the
link of one of their appointments (``/c/<token>/messages``: the channel
with that appointment's department, whatever the link's time window) or
their portal (``/portal/<token>/messages/<channel>``: any of their
channels, once the portal is opened with its PIN), and the token in the
address is the credential, looked up with the core's rate limit on guessed
tokens."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import func, select

from consultroom.appointments.models import Appointment
from consultroom.clients.contact import language_of
from consultroom.i18n import speak
from consultroom.portal.access import unlocked_client
from consultroom.ratelimit import find_by_token
from consultroom_chat import service
from consultroom_chat.i18n import _, page
from consultroom_chat.models import Author, Conversation, Kind, Message

TEMPLATE = "consultroom_chat:templates/client.html"
WITHDRAWN = _("You cannot write here any more. Please contact us another way.")


def _by_token(request, model, column):
    found = find_by_token(
        request,
        lambda: request.dbsession.scalar(
            select(model).where(
                model.organisation_id == request.organisation.id,
                column == request.matchdict["token"],
            )
        ),
    )
    if found is None:
        raise HTTPNotFound()
    return found


def _write(request, conversation, client):
    """The client's message from the form; the error to show, or None."""
    if not conversation.client_may_write:
        return WITHDRAWN
    try:
        service.post(
            request, conversation, Author.client, client.display_name, request.POST.get("text")
        )
    except service.Invalid as exc:
        return exc.args[0]
    return None


def _channel_page(request, conversation, client, back_url):
    speak(request, language_of(client, request.organisation))
    # The token is in the address: keep it out of caches and Referer headers.
    request.response.cache_control = "no-store"
    request.response.headers["Referrer-Policy"] = "no-referrer"
    error = None
    if request.method == "POST":
        error = _write(request, conversation, client)
        if error is None:
            return HTTPSeeOther(request.path)
    history = service.history(request, conversation)
    conversation.client_read_id = max([conversation.client_read_id, *(m["id"] for m in history)])
    return page(request, channel=conversation, history=history, error=error, back_url=back_url)


@view_config(route_name="chat.client", renderer=TEMPLATE)
def from_appointment_link(request):
    appointment = _by_token(request, Appointment, Appointment.token)
    if appointment.client is None:  # anonymised
        raise HTTPNotFound()
    conversation = service.channel_for(request, appointment.client, appointment.department_id)
    back = request.route_path("client_link", token=appointment.token)
    return _channel_page(request, conversation, appointment.client, back)


@view_config(route_name="chat.portal", renderer=TEMPLATE)
def from_portal(request):
    client, refusal = unlocked_client(request)
    if refusal is not None:
        return refusal
    conversation = request.dbsession.scalar(
        select(Conversation).where(
            Conversation.organisation_id == request.organisation.id,
            Conversation.client_id == client.id,
            Conversation.id == service.route_id(request),
        )
    )
    if conversation is None:
        raise HTTPNotFound()
    back = request.route_path("client_portal", token=client.portal_token)
    return _channel_page(request, conversation, client, back)


def unread_by_client(request, client):
    """``[(channel, messages from staff the client has not read)]``."""
    unread = func.count(Message.id).filter(
        Message.author == Author.staff, Message.id > Conversation.client_read_id
    )
    rows = request.dbsession.execute(
        select(Conversation, unread)
        .outerjoin(Message, Message.conversation_id == Conversation.id)
        .where(
            Conversation.organisation_id == request.organisation.id,
            Conversation.kind == Kind.channel,
            Conversation.client_id == client.id,
        )
        .group_by(Conversation.id)
        .order_by(Conversation.id)
    )
    return rows.all()


def includeme(config):
    config.add_plugin_route("chat.client", "/c/{token}/messages")
    config.add_plugin_route("chat.portal", r"/portal/{token}/messages/{id:\d+}")
    config.scan(".client")
