"""Chat's hook implementations: its menu entry with the unread count, the
channel made when an appointment is booked, the client page's links to
their channels, and the refusal to delete a department with a history."""

from markupsafe import Markup
from sqlalchemy import func, select

from consultroom.hookspecs import MenuItem, hookimpl
from consultroom_chat import service
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
    if slot != "client" or not request.has_permission("staff"):
        return None
    client = context["client"]
    channels = request.dbsession.scalars(
        service.visible_channels(request).where(Conversation.client_id == client.id)
    ).all()
    if not channels:
        return None
    unread = service.unread_counts(request)
    links = Markup("").join(
        Markup('<li><a href="{}">{}</a>{}</li>').format(
            request.route_path("chat.channel", id=c.id),
            c.department.name if c.department else request.localizer.translate(_("All staff")),
            Markup(' <span class="badge">{}</span>').format(unread[c.id])
            if unread.get(c.id)
            else "",
        )
        for c in channels
    )
    title = request.localizer.translate(_("Messages"))
    return Markup('<section class="card chat-client"><h2>{}</h2><ul>{}</ul></section>').format(
        title, links
    )
