"""The staff's side of the public chat widget, on the Messages pages: the
section "Website visitors" (their conversations, with what is unread), the
switch "answer the website chat", and one visitor conversation to read and
answer. Live over the page's socket (static/visitors.js and
``consultroom_chat.visitor_sockets``); the forms post without it.

Every staff member of the organisation may read and answer a visitor
conversation (see ``consultroom_chat.visitors``); each read is audited.
Shown only while the organisation has the public widget on.
"""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from consultroom.realtime import publish_after_commit
from consultroom.web import flash
from consultroom_chat import service, visitors
from consultroom_chat.answer import answer_page
from consultroom_chat.i18n import _, page
from consultroom_chat.models import Author, Conversation
from consultroom_chat.settings import settings_of

TEMPLATES = "consultroom_chat:templates/"


def _socket_config(request):
    return {"ws": "/ws", "hello": {"type": "hello", "role": "staff"}}


def section(request):
    """The Messages page's values for its "Website visitors" section."""
    if not settings_of(request)["public_widget"]:
        return {"visitors": None}
    conversations = request.dbsession.scalars(
        visitors.visible(request).order_by(
            Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc()
        )
    ).all()
    return {
        "visitors": conversations,
        "visitor_unread": visitors.unread_counts(request, request.identity),
        "answering": visitors.is_on_duty(request.dbsession, request.identity.id),
        "realtime": _socket_config(request),
    }


def _widget_on(request):
    if not settings_of(request)["public_widget"]:
        raise HTTPNotFound()


def _visitor_conversation(request):
    _widget_on(request)
    found = request.dbsession.scalar(
        visitors.visible(request).where(Conversation.id == service.route_id(request))
    )
    if found is None:
        raise HTTPNotFound()
    return found


@view_config(
    route_name="chat.visitor",
    renderer=TEMPLATES + "visitor.html",
    permission="staff",
)
def visitor(request):
    conversation = _visitor_conversation(request)

    def write(text):
        user = request.identity
        message = visitors.write(request, conversation, Author.staff, user.name, text, user=user)
        visitors.announce(request, conversation, message)

    done, values = answer_page(request, conversation, write, "chat.visitor")
    return done or page(
        request, conversation=conversation, realtime=_socket_config(request), **values
    )


@view_config(route_name="chat.duty", request_method="POST", permission="staff")
def duty(request):
    """The switch without the page's socket (the socket's ``chat.duty`` is the same)."""
    _widget_on(request)
    answering = request.POST.get("answering") == "1"
    for channel, data in visitors.set_duty(request.dbsession, request.identity, answering):
        publish_after_commit(request, channel, data)
    flash(
        request,
        _("You answer the website chat.")
        if answering
        else _("You no longer answer the website chat."),
    )
    return HTTPSeeOther(request.route_path("chat.messages"))


def includeme(config):
    config.add_plugin_route("chat.visitor", r"/messages/visitors/{id:\d+}")
    config.add_plugin_route("chat.duty", "/messages/duty")
    config.scan(".visitor_views")
