"""Chat's hook implementations: its menu entry with the unread count, the
channel made when an appointment is booked, the client page's links to
their channels, and the refusal to delete a department with a history."""

from markupsafe import Markup
from sqlalchemy import func, select

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom_chat import service
from consultroom_chat.client import unread_by_client
from consultroom_chat.i18n import _
from consultroom_chat.models import Conversation, Message


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("staff"):
        return None
    unread = sum(service.unread_counts(request).values())
    label = request.localizer.translate(
        _("Messages (${n})", mapping={"n": unread}) if unread else _("Messages")
    )
    return [MenuItem(label, request.route_path("chat.messages"), order=35, icon="chat")]


@hookimpl
def consultroom_appointment_created(request, appointment):
    """Every booked client gets a channel with the appointment's department."""
    if appointment.client is not None:
        service.channel_for(request, appointment.client, appointment.department_id)


@hookimpl
def consultroom_department_delete_blockers(request, department):
    written = request.dbsession.scalar(
        select(func.count(Message.id))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.organisation_id == request.organisation.id,
            Conversation.department_id == department.id,
        )
    )
    if not written:
        return None
    return [
        request.localizer.translate(
            _(
                "${n} chat messages were written with this department: delete those"
                " channels' history first.",
                mapping={"n": written},
            )
        )
    ]


@hookimpl
def consultroom_template_slot(request, slot, context):
    if slot == "client" and request.has_permission("staff"):
        return _client_page_links(request, context["client"])
    if slot == "client_portal":
        return _portal_links(request, context["client"])
    return None


def _links(request, title, items):
    """A card of links, each with its unread count as a badge."""
    entries = Markup("").join(
        Markup('<li><a href="{}">{}</a>{}</li>').format(
            url, label, Markup(' <span class="badge">{}</span>').format(n) if n else ""
        )
        for url, label, n in items
    )
    return Markup('<section class="card chat-links"><h2>{}</h2><ul>{}</ul></section>').format(
        request.localizer.translate(title), entries
    )


def _department_name(request, channel):
    if channel.department is not None:
        return channel.department.name
    return request.localizer.translate(_("All staff"))


def _client_page_links(request, client):
    channels = request.dbsession.scalars(
        service.visible_channels(request).where(Conversation.client_id == client.id)
    ).all()
    if not channels:
        return None
    unread = service.unread_counts(request)
    return _links(
        request,
        _("Messages"),
        [
            (
                request.route_path("chat.channel", id=c.id),
                _department_name(request, c),
                unread.get(c.id),
            )
            for c in channels
        ],
    )


def _portal_links(request, client):
    channels = unread_by_client(request, client)
    if not channels:
        return None
    return _links(
        request,
        _("Your messages"),
        [
            (
                request.route_path("chat.portal", token=client.portal_token, id=c.id),
                _department_name(request, c),
                n,
            )
            for c, n in channels
        ],
    )
