"""Chat's staff pages, "Messages": every channel they may see, with what is
unread; one channel to read and answer; a department admin's grant,
withdraw and delete. The client's side is in ``consultroom_chat.client``."""

import wtforms
from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import delete
from sqlalchemy.orm import selectinload

from consultroom.appointments.access import visible_departments
from consultroom.audit import record
from consultroom.clients.picker import ClientField
from consultroom.web import flash
from consultroom.web.forms import Form, options
from consultroom_chat import service, visitor_views
from consultroom_chat.answer import answer_page
from consultroom_chat.i18n import _, page
from consultroom_chat.models import Author, Conversation, Message

TEMPLATES = "consultroom_chat:templates/"
MANAGE = "department.manage"
NO_DEPARTMENT = ""


class NewChannelForm(Form):
    client = ClientField(_("Client"), required=_("Choose the client to write with."))
    department = wtforms.SelectField(_("Department"), choices=[])


def _new_channel_form(request):
    form = NewChannelForm(request)
    departments = visible_departments(request)
    choices = [(str(d.id), d.name) for d in departments]
    if not request.organisation.options["strict_departments"]:
        choices.insert(0, (NO_DEPARTMENT, _("All staff (no department)")))
    form.department.choices = options(choices)
    return form


def _department_id(form):
    return int(form.department.data) if form.department.data != NO_DEPARTMENT else None


@view_config(
    route_name="chat.messages",
    renderer="consultroom_chat:templates/messages.html",
    permission="staff",
)
def messages(request):
    form = _new_channel_form(request)
    if request.method == "POST" and form.validate():
        channel = service.channel_for(request, form.client.data, _department_id(form))
        return HTTPSeeOther(request.route_path("chat.channel", id=channel.id))
    channels = request.dbsession.scalars(
        service.visible_channels(request)
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())
        # The list shows each channel's client and department.
        .options(selectinload(Conversation.client), selectinload(Conversation.department))
    ).all()
    return page(
        request,
        channels=channels,
        unread=service.unread_counts(request),
        form=form,
        **visitor_views.section(request),
    )


def _may_manage(request, channel):
    """Department admins manage their department's channels; organisation
    admins every channel."""
    if request.has_permission("organisation.manage"):
        return True
    user = request.identity
    return request.has_permission("department.manage") and (
        channel.department_id is None or channel.department_id == user.department_id
    )


@view_config(
    route_name="chat.channel",
    renderer="consultroom_chat:templates/channel.html",
    permission="staff",
)
def channel(request):
    conversation = service.channel_or_404(request)

    def write(text):
        user = request.identity
        service.post(request, conversation, Author.staff, user.name, text, user=user)

    done, values = answer_page(request, conversation, write, "chat.channel")
    return done or page(
        request, channel=conversation, may_manage=_may_manage(request, conversation), **values
    )


def _managed_channel(request):
    conversation = service.channel_or_404(request)
    if not _may_manage(request, conversation):
        raise HTTPForbidden()
    return conversation


@view_config(
    route_name="chat.channel_access", request_method="POST", permission="department.manage"
)
def channel_access(request):
    conversation = _managed_channel(request)
    conversation.client_may_write = request.POST.get("allow") == "1"
    record(
        request,
        "chat.access",
        "chat_conversation",
        conversation.id,
        client_may_write=conversation.client_may_write,
    )
    flash(
        request,
        _("The client may write here.")
        if conversation.client_may_write
        else _("The client can no longer write here."),
    )
    return HTTPSeeOther(request.route_path("chat.channel", id=conversation.id))


@view_config(route_name="chat.channel_clear", request_method="POST", permission=MANAGE)
def channel_clear(request):
    conversation = _managed_channel(request)
    deleted = request.dbsession.execute(
        delete(Message).where(Message.conversation_id == conversation.id)
    ).rowcount
    record(request, "chat.clear", "chat_conversation", conversation.id, messages=deleted)
    flash(request, _("The messages of this channel were deleted."))
    return HTTPSeeOther(request.route_path("chat.channel", id=conversation.id))


def includeme(config):
    config.add_plugin_route("chat.messages", "/messages")
    config.add_plugin_route("chat.channel", r"/messages/{id:\d+}")
    config.add_plugin_route("chat.channel_access", r"/messages/{id:\d+}/access")
    config.add_plugin_route("chat.channel_clear", r"/messages/{id:\d+}/clear")
    config.scan(".views")
