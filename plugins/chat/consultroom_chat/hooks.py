"""Chat's hook implementations: its menu entry with the unread count; the
channel made when an appointment is booked; the room's chat tab and the
waiting list's badges and panel; the client page's and the portal's links;
forgetting messages with the consultations, clients and days they belong
to; and the refusal to delete a department with a history."""

from datetime import timedelta
from functools import lru_cache

from markupsafe import Markup
from pyramid.renderers import render
from sqlalchemy import delete, func, select, union_all

from consultroom.clients.access import TABLES_READ, Viewer
from consultroom.db import utcnow
from consultroom.db.cache import ResultCache
from consultroom.hookspecs import (
    ListBadge,
    MenuItem,
    RoomScript,
    RoomTab,
    WaitingAnnotation,
    WorkerJob,
    fills_slots,
    hookimpl,
)
from consultroom_chat import service, visitors
from consultroom_chat.client import unread_by_client
from consultroom_chat.i18n import _, page
from consultroom_chat.models import Conversation, Kind, Message, ReadMark
from consultroom_chat.settings import settings_of

STATIC = "/chat-static/"
# The registry's cache of the staff shell's unread totals (_unread_total).
UNREAD_TOTALS = "consultroom_chat.unread_totals"
# Where the organisation shows messages in the waiting room: the staff's
# live list, and the client's waiting page.
WAITING_SLOTS = {
    "waiting_list": "consultroom_chat:templates/waiting_list.html",
    "waiting_room": "consultroom_chat:templates/waiting_panel.html",
}


@hookimpl
def consultroom_menu_items(request):
    if not request.has_permission("staff"):
        return None
    unread = _unread_total(request)
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
@fills_slots("client", "client_portal", "top_bar", *WAITING_SLOTS)
def consultroom_template_slot(request, slot, context):
    if slot == "client" and request.has_permission("staff"):
        return _client_page_links(request, context["client"])
    if slot == "client_portal":
        return _portal_links(request, context["client"])
    if slot == "top_bar" and request.has_permission("staff"):
        return _top_bar(request)
    if slot in WAITING_SLOTS and settings_of(request)["in_waiting_room"]:
        return render(WAITING_SLOTS[slot], page(request), request)
    return None


def _unread_total(request):
    """What the staff member has not read: clients' channels and the
    website's visitors; counted once per request, as the menu and the top
    bar both show it, in one statement (every staff page asks), kept until
    a table it reads changes (``UNREAD_TOTALS``)."""
    if "chat_unread_total" not in request.__dict__:
        statement = _unread_total_statement(Viewer.of(request))
        rows = request.registry[UNREAD_TOTALS].rows(request.dbsession, statement)
        request.__dict__["chat_unread_total"] = sum(count for _conversation, count in rows)
    total: int = request.__dict__["chat_unread_total"]
    return total


@lru_cache(maxsize=4096)  # built once per viewer, as the channels' select
def _unread_total_statement(viewer):
    readable = union_all(
        service.channels_visible_to(viewer).with_only_columns(Conversation.id),
        visitors.visible_in(viewer.organisation_id).with_only_columns(Conversation.id),
    )
    return service.unread_statement(readable, viewer.user_id)


def unread_totals_cache(settings):
    """The cache of ``_unread_total``'s statement, by the tables it reads."""
    chat = {Conversation.__tablename__, Message.__tablename__, ReadMark.__tablename__}
    return ResultCache.configured(settings, chat | TABLES_READ)


def _top_bar(request):
    unread = _unread_total(request)
    if not unread:
        return None
    label = request.localizer.translate(_("${n} unread messages", mapping={"n": unread}))
    return Markup(
        '<a class="chat-unread" href="{}" aria-label="{}"><span aria-hidden="true">✉</span> {}</a>'
    ).format(request.route_path("chat.messages"), label, unread)


@hookimpl
def consultroom_room_regions(request, role, room):
    """The chat tab, for everyone in a room. On a client's waiting page
    (``room`` None) too: it becomes the room, and the script says whether
    messages are open while waiting."""
    html = render("consultroom_chat:templates/room_tab.html", page(request), request)
    label = request.localizer.translate(_("Chat"))
    return [RoomTab("chat", label, html, order=10), RoomScript(STATIC + "chat.js")]


@hookimpl
def consultroom_waiting_list_annotations(request, appointments):
    if not settings_of(request)["in_waiting_room"]:
        return None
    unread = service.waiting_unread(request, appointments)
    return [
        WaitingAnnotation(
            appointment_id,
            request.localizer.translate(_("${n} new messages", mapping={"n": n})),
            "warning",
        )
        for appointment_id, n in unread.items()
    ]


@hookimpl
def consultroom_list_badges(request, list_name, rows):
    """Unread messages from a client, on their row in the clients list and
    on their appointments' rows (the channel with that department)."""
    if list_name not in ("clients", "appointments") or not request.has_permission("staff"):
        return None
    unread = service.unread_counts(request)
    if not unread:
        return None
    channels = request.dbsession.execute(
        select(Conversation.id, Conversation.client_id, Conversation.department_id).where(
            Conversation.id.in_(unread)
        )
    ).all()
    if list_name == "clients":
        wanted = {row.id for row in rows}
        found = [(c.client_id, c.id) for c in channels if c.client_id in wanted]
    else:
        by_key = {(c.client_id, c.department_id): c.id for c in channels}
        found = [
            (row.id, by_key[key])
            for row in rows
            if (key := (row.client_id, row.department_id)) in by_key
        ]
    return [
        ListBadge(
            row_id,
            request.localizer.translate(_("${n} new messages", mapping={"n": unread[channel_id]})),
            "warning",
            request.route_path("chat.channel", id=channel_id),
        )
        for row_id, channel_id in found
    ]


@hookimpl
def consultroom_room_ended(request, room):
    """What was written in the consultation goes on in the client's channel
    with the department, or goes, as the organisation chose."""
    settings = settings_of(request)
    if settings["keep_open_after"]:
        service.continue_in_channel(request, room)
    elif settings["delete_after_consultation"]:
        request.dbsession.execute(
            delete(Conversation).where(
                Conversation.organisation_id == request.organisation.id,
                Conversation.kind == Kind.consultation,
                (Conversation.appointment_id == room.appointment_id)
                if room.appointment_id is not None
                else (Conversation.room_id == room.id),
            )
        )


@hookimpl
def consultroom_appointment_anonymised(request, appointment_ids):
    # What was written in those consultations' waiting rooms and rooms.
    request.dbsession.execute(
        delete(Conversation).where(
            Conversation.organisation_id == request.organisation.id,
            Conversation.appointment_id.in_(appointment_ids),
        )
    )


@hookimpl
def consultroom_client_erased(request, client):
    request.dbsession.execute(
        delete(Conversation).where(
            Conversation.organisation_id == request.organisation.id,
            Conversation.client_id == client.id,
        )
    )


def delete_old_messages(request):
    """The worker's daily job: messages older than the organisation's
    "delete messages after this many days" go, website visitors' too."""
    days = settings_of(request)["delete_after_days"]
    if not days:
        return 0
    deleted = request.dbsession.execute(
        delete(Message).where(
            Message.organisation_id == request.organisation.id,
            Message.at < utcnow() - timedelta(days=days),
        )
    ).rowcount
    # A website visitor's conversation holds their name and address: it
    # goes with its last message.
    request.dbsession.execute(
        delete(Conversation).where(
            Conversation.organisation_id == request.organisation.id,
            Conversation.kind == Kind.visitor,
            ~select(Message.id).where(Message.conversation_id == Conversation.id).exists(),
        )
    )
    return deleted


@hookimpl
def consultroom_worker_jobs():
    return [WorkerJob("chat.delete_old_messages", timedelta(hours=1), delete_old_messages)]


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
